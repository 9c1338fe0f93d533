using System.Diagnostics;
using Flowers.Diagnostics;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>
/// What the real labeller and publish activity emit on Core's "Flowers" source and meter (the telemetry the Functions
/// worker exports to Application Insights), against Azurite with a published model, through plain listeners.
/// </summary>
public class TelemetryTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly UploadLabeller _labeller = storage.Services.GetRequiredService<UploadLabeller>();
    private readonly FlowersStorage _containers = storage.Services.GetRequiredService<FlowersStorage>();

    private async Task<string> UploadAsync(string name, byte[] bytes)
    {
        await _containers.EnsureContainersAsync();
        await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(bytes));
        return name;
    }

    private static Activity LabelSpan(TelemetryRecorder recorder, string upload, string outcome) =>
        Assert.Single(recorder.Spans("flowers.label", FlowersTelemetry.Tags.Upload, upload),
            span => Equals(span.GetTagItem(FlowersTelemetry.Tags.Outcome), outcome));

    [Fact]
    public async Task Labelling_a_photo_records_its_span_one_latency_and_one_photo_labelled()
    {
        var name = await UploadAsync("telemetry/circle.jpg", SyntheticPhotos.Jpeg("circle", 4100));
        using var recorder = new TelemetryRecorder();

        var result = await _labeller.LabelAsync(name);

        Assert.NotNull(result?.Label);
        var span = LabelSpan(recorder, name, FlowersTelemetry.LabelOutcomes.Labelled);
        Assert.Equal(storage.ModelId, span.GetTagItem(FlowersTelemetry.Tags.ModelId));
        Assert.Equal(result.Label, span.GetTagItem(FlowersTelemetry.Tags.Label));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);

        var latency = Assert.Single(recorder.During(span, "flowers.label.duration"));
        Assert.Equal(FlowersTelemetry.LabelOutcomes.Labelled, latency.Tags[FlowersTelemetry.Tags.Outcome]);
        Assert.InRange(latency.Value, 0, span.Duration.TotalSeconds + 0.001); // seconds, within the span
        Assert.True(latency.Value > 0);
        Assert.Equal(1, Assert.Single(recorder.During(span, "flowers.photos.labelled")).Value);
        Assert.Empty(recorder.During(span, "flowers.photos.failed"));
    }

    [Fact]
    public async Task A_redelivered_upload_is_unchanged_and_not_counted_again()
    {
        var name = await UploadAsync("telemetry/square.jpg", SyntheticPhotos.Jpeg("square", 4200));
        await _labeller.LabelAsync(name);
        using var recorder = new TelemetryRecorder();

        await _labeller.LabelAsync(name); // the trigger that setting the label metadata causes

        var span = LabelSpan(recorder, name, FlowersTelemetry.LabelOutcomes.Unchanged);
        Assert.Equal(FlowersTelemetry.LabelOutcomes.Unchanged, Assert.Single(recorder.During(span, "flowers.label.duration")).Tags[FlowersTelemetry.Tags.Outcome]);
        Assert.Empty(recorder.During(span, "flowers.photos.labelled"));
    }

    [Fact]
    public async Task A_file_that_is_not_a_photo_counts_as_failed()
    {
        var name = await UploadAsync("telemetry/notes.txt", SyntheticPhotos.NotAPhoto());
        using var recorder = new TelemetryRecorder();

        var result = await _labeller.LabelAsync(name);

        Assert.Null(result!.Label);
        var span = LabelSpan(recorder, name, FlowersTelemetry.LabelOutcomes.Failed);
        Assert.Equal(1, Assert.Single(recorder.During(span, "flowers.photos.failed")).Value);
        Assert.Empty(recorder.During(span, "flowers.photos.labelled"));
    }

    [Fact]
    public async Task An_upload_deleted_before_it_is_labelled_is_gone()
    {
        using var recorder = new TelemetryRecorder();
        Assert.Null(await _labeller.LabelAsync("telemetry/never-uploaded.jpg"));
        var span = LabelSpan(recorder, "telemetry/never-uploaded.jpg", FlowersTelemetry.LabelOutcomes.Gone);
        Assert.Single(recorder.During(span, "flowers.label.duration"));
    }

    [Fact]
    public async Task An_upload_another_labeller_holds_is_left_to_it_and_recorded_by_it_not_here()
    {
        var name = await UploadAsync("telemetry/held.jpg", SyntheticPhotos.Jpeg("circle", 4300));
        await using (await new UploadClaims(_containers).TryClaimAsync(name)) // another host's claim
        {
            using var recorder = new TelemetryRecorder();

            var outcome = Assert.Single(await _labeller.LabelBatchAsync([name]));

            Assert.True(outcome.ClaimedElsewhere);
            Assert.Null(outcome.Failure);
            Assert.Empty(recorder.Spans("flowers.label", FlowersTelemetry.Tags.Upload, name)); // no error, no span
        }
        Assert.NotNull(Assert.Single(await _labeller.LabelBatchAsync([name])).Result?.Label); // released: labelled here
    }

    [Theory]
    [InlineData(2.0, "gated")]
    [InlineData(0.0, "published")]
    public async Task The_publish_stage_records_its_span_and_duration_with_its_outcome(double minAccuracy, string outcome)
    {
        using var recorder = new TelemetryRecorder();

        var result = await storage.Services.GetRequiredService<PublishActivity>().RunAsync(new PublishInput(storage.ModelId, minAccuracy));

        Assert.Equal(outcome == "published", result.Published);
        var span = Assert.Single(recorder.Spans("flowers.publish", FlowersTelemetry.Tags.ModelId, storage.ModelId),
            s => Equals(s.GetTagItem(FlowersTelemetry.Tags.Outcome), outcome));
        Assert.Equal(FlowersTelemetry.Stages.Publish, span.GetTagItem(FlowersTelemetry.Tags.Stage));
        var duration = Assert.Single(recorder.During(span, "flowers.training.stage.duration"));
        Assert.Equal(FlowersTelemetry.Stages.Publish, duration.Tags[FlowersTelemetry.Tags.Stage]);
        Assert.Equal(outcome, duration.Tags[FlowersTelemetry.Tags.Outcome]);
    }
}

/// <summary>A whole training run on the real Durable Task worker: one span and duration for each stage it ran.</summary>
public class TrainingRunTelemetryTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    [Fact]
    public async Task A_run_records_ingest_each_featurize_shard_train_and_publish()
    {
        const string dataset = "telemetry-shapes";
        await PipelineServices.UploadDatasetAsync(host.Blobs, dataset, SyntheticPhotos.Classes, perClass: 6, seed: 700);
        using var recorder = new TelemetryRecorder();

        var run = await host.RunAsync($$"""{ "blobPrefix": "{{dataset}}", "shardSize": 8 }""");

        PipelineHost.AssertCompleted(run);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        var shards = (await TrainingRuns.GetAsync(host.Client, run.InstanceId))!.Progress!.ShardsTotal;
        Assert.True(shards >= 2, $"{shards} shard(s): the test means to see several featurize spans");

        Assert.Single(recorder.Spans("flowers.ingest", FlowersTelemetry.Tags.Dataset, dataset));
        var featurize = recorder.Spans("flowers.featurize", FlowersTelemetry.Tags.Dataset, dataset);
        Assert.Equal(Enumerable.Range(0, shards), featurize.Select(span => (int)span.GetTagItem(FlowersTelemetry.Tags.Shard)!).Order());
        var train = Assert.Single(recorder.Spans("flowers.train", FlowersTelemetry.Tags.Dataset, dataset));
        var modelId = (string)train.GetTagItem(FlowersTelemetry.Tags.ModelId)!;
        Assert.Equal(outcome.PublishedModelId, modelId);
        var publish = Assert.Single(recorder.Spans("flowers.publish", FlowersTelemetry.Tags.ModelId, modelId));
        Assert.Equal("published", publish.GetTagItem(FlowersTelemetry.Tags.Outcome));

        foreach (var span in featurize.Append(train).Append(publish))
        {
            var duration = Assert.Single(recorder.During(span, "flowers.training.stage.duration"));
            Assert.Equal(span.GetTagItem(FlowersTelemetry.Tags.Stage), duration.Tags[FlowersTelemetry.Tags.Stage]);
        }
    }
}
