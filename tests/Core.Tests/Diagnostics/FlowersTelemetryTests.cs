using System.Diagnostics;
using Flowers.Diagnostics;
using Flowers.Testing;

namespace Flowers.Tests.Diagnostics;

/// <summary>
/// A training stage run through <see cref="FlowersTelemetry.StageAsync{T}"/> (as every activity of the pipeline is):
/// one span named after the stage with its tags, and one stage-duration measurement tagged by stage and outcome.
/// </summary>
public class FlowersTelemetryTests
{
    private static string UniqueDataset() => $"telemetry-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_stage_records_its_span_and_one_duration_tagged_by_stage()
    {
        using var recorder = new TelemetryRecorder();
        var dataset = UniqueDataset();

        var result = await FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Featurize, dataset, async () =>
        {
            await Task.Delay(20);
            return 42;
        }, shard: 3);

        Assert.Equal(42, result);
        var span = Assert.Single(recorder.Spans("flowers.featurize", FlowersTelemetry.Tags.Dataset, dataset));
        Assert.Equal(FlowersTelemetry.Stages.Featurize, span.GetTagItem(FlowersTelemetry.Tags.Stage));
        Assert.Equal(3, span.GetTagItem(FlowersTelemetry.Tags.Shard));
        Assert.Equal("ok", span.GetTagItem(FlowersTelemetry.Tags.Outcome));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.True(span.Duration >= TimeSpan.FromMilliseconds(15), $"span lasted {span.Duration}");

        var duration = Assert.Single(recorder.During(span, "flowers.training.stage.duration"));
        Assert.Equal(FlowersTelemetry.Stages.Featurize, duration.Tags[FlowersTelemetry.Tags.Stage]);
        Assert.Equal("ok", duration.Tags[FlowersTelemetry.Tags.Outcome]);
        Assert.InRange(duration.Value, 0.015, 30);
        // Seconds, not milliseconds: the histogram's unit is "s".
        Assert.Equal("s", FlowersTelemetry.StageDuration.Unit);
    }

    [Fact]
    public async Task A_failing_stage_is_an_error_span_and_an_error_duration_and_still_throws()
    {
        using var recorder = new TelemetryRecorder();
        var dataset = UniqueDataset();

        var thrown = await Assert.ThrowsAsync<InvalidDataException>(() => FlowersTelemetry.StageAsync<int>(
            FlowersTelemetry.Stages.Train, dataset, () => throw new InvalidDataException("no feature shards"), modelId: "m-1"));

        Assert.Equal("no feature shards", thrown.Message);
        var span = Assert.Single(recorder.Spans("flowers.train", FlowersTelemetry.Tags.Dataset, dataset));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("error", span.GetTagItem(FlowersTelemetry.Tags.Outcome));
        Assert.Equal("m-1", span.GetTagItem(FlowersTelemetry.Tags.ModelId));
        Assert.Equal(typeof(InvalidDataException).FullName, span.GetTagItem(FlowersTelemetry.Tags.ErrorType));
        var duration = Assert.Single(recorder.During(span, "flowers.training.stage.duration"));
        Assert.Equal("error", duration.Tags[FlowersTelemetry.Tags.Outcome]);
    }

    [Fact]
    public async Task A_stage_inside_another_is_its_child()
    {
        using var recorder = new TelemetryRecorder();
        var dataset = UniqueDataset();

        await FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Ingest, dataset,
            () => FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Acquire, dataset, () => Task.FromResult(1)));

        var ingest = Assert.Single(recorder.Spans("flowers.ingest", FlowersTelemetry.Tags.Dataset, dataset));
        var acquire = Assert.Single(recorder.Spans("flowers.acquire", FlowersTelemetry.Tags.Dataset, dataset));
        Assert.Equal(ingest.SpanId, acquire.ParentSpanId);
        Assert.Equal(ingest.TraceId, acquire.TraceId);
    }

    [Fact]
    public async Task Without_a_listener_nothing_is_recorded_and_the_stage_still_runs()
    {
        // The app without a connection string: no provider subscribes, the stage runs as it did before telemetry.
        var ran = await FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Publish, UniqueDataset(), () => Task.FromResult(true));
        Assert.True(ran);
    }
}
