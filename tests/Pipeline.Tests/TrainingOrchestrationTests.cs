using Azure.Storage.Blobs;
using Flowers.Evaluate;
using Flowers.LocalHost;
using Flowers.Report;
using Flowers.Runs;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>
/// A real Durable Task worker (the in-process test host's in-memory backend) running the real orchestrator
/// and activities, registered by the same Core method a local host uses, against an Azurite of its own.
/// </summary>
public sealed class PipelineHost : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;
    public StorageTraffic Traffic { get; } = new();
    public ServiceProvider Services { get; private set; } = null!;
    public DurableTaskTestHost Durable { get; private set; } = null!;
    public DurableTaskClient Client => Durable.Client;
    public BlobServiceClient Blobs => Services.GetRequiredService<BlobServiceClient>();

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, Traffic);
        Durable = await DurableTaskTestHost.StartAsync(registry => registry.AddTrainingPipeline(Services),
            new DurableTaskTestHostOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
    }

    public async Task DisposeAsync()
    {
        await Durable.DisposeAsync();
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }

    public async Task<OrchestrationMetadata> RunAsync(string body)
    {
        var start = await Services.GetRequiredService<TrainingRuns>().StartAsync(Client, body);
        Assert.Equal(TrainingStartStatus.Started, start.Status);
        return await WaitAsync(start.InstanceId!);
    }

    public async Task<OrchestrationMetadata> WaitAsync(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        return await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
    }

    public static void AssertCompleted(OrchestrationMetadata run) =>
        Assert.True(run.RuntimeStatus == OrchestrationRuntimeStatus.Completed,
            $"{run.InstanceId} is {run.RuntimeStatus}: {run.FailureDetails?.ErrorType} {run.FailureDetails?.ErrorMessage}");
}

public class TrainingOrchestrationTests(PipelineHost host) : IClassFixture<PipelineHost>
{
    private ModelRegistry Registry => host.Services.GetRequiredService<ModelRegistry>();

    [Fact]
    public async Task A_full_run_publishes_a_model_and_a_second_run_reuses_every_feature_shard()
    {
        await PipelineServices.UploadDatasetAsync(host.Blobs, "shapes", SyntheticPhotos.Classes, perClass: 8, seed: 100);
        await host.Blobs.GetBlobContainerClient(StorageNames.Datasets)
            .GetBlobClient(StorageNames.DatasetPhotoBlob("shapes", "circle", "broken.jpg")).UploadAsync(new BinaryData(SyntheticPhotos.NotAPhoto()));
        var runs = host.Services.GetRequiredService<TrainingRuns>();
        const string body = """{ "blobPrefix": "shapes", "shardSize": 8, "minAccuracy": 0.5 }""";

        var start = await runs.StartAsync(host.Client, body);
        var second = await runs.StartAsync(host.Client, body);
        Assert.Equal(TrainingStartStatus.AlreadyRunning, second.Status);
        Assert.Equal(start.InstanceId, second.InstanceId);
        Assert.Equal("training-shapes", start.InstanceId);

        var shardReads = host.Traffic.Count("GET", ".bin");
        var run = await host.WaitAsync(start.InstanceId!);
        PipelineHost.AssertCompleted(run);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        Assert.Equal(shardReads, host.Traffic.Count("GET", ".bin")); // training took the shards this process had just written
        Assert.Equal(25, outcome.Photos);
        Assert.Equal(24, outcome.PhotosFeaturized);
        Assert.NotNull(outcome.PublishedModelId);
        Assert.Null(outcome.NotPublishedReason);
        Assert.Equal(1, outcome.Metrics.Skipped);

        var current = await Registry.GetCurrentAsync();
        Assert.Equal(outcome.PublishedModelId, current!.Value.Pointer.ModelId);
        var metrics = (await Registry.ReadMetricsAsync(outcome.PublishedModelId!))!;
        Assert.Equal(outcome.Metrics.Accuracy, metrics.Accuracy);
        var skipped = Assert.Single(metrics.Skipped);
        Assert.Equal("circle/broken.jpg", skipped.Image);
        Assert.False(string.IsNullOrWhiteSpace(skipped.Reason));
        Assert.Equal(metrics.TrainCount + metrics.TestCount, 24);
        foreach (var file in StorageNames.ModelFiles)
            Assert.True(await host.Blobs.GetBlobContainerClient(StorageNames.Models).GetBlobClient(StorageNames.ModelBlob(outcome.PublishedModelId!, file)).ExistsAsync());
        await AssertReportAsync(outcome.PublishedModelId!, metrics);
        var description = (await Registry.DescribeCurrentAsync())!;
        Assert.True(description.Current);
        Assert.Equal(outcome.PublishedModelId, description.Manifest.GetProperty("modelId").GetString());

        var view = (await TrainingRuns.GetAsync(host.Client, start.InstanceId!))!;
        Assert.Equal("Completed", view.RuntimeStatus);
        Assert.Equal(TrainingStages.Done, view.Progress!.Stage);
        Assert.Equal(4, view.Progress.ShardsTotal);
        Assert.Equal(4, view.Progress.ShardsDone);
        Assert.Equal(25, view.Progress.PhotosDone);
        Assert.Equal(outcome.PublishedModelId, view.Result!.PublishedModelId);
        Assert.Null(view.Error);

        // Same photos again: nothing is featurized, a new model is trained and published.
        var featureBlobs = await CountAsync(StorageNames.Features);
        shardReads = host.Traffic.Count("GET", ".bin");
        var rerun = (await host.RunAsync(body)).ReadOutputAs<TrainingOutcome>()!;
        Assert.Equal(0, rerun.PhotosFeaturized);
        Assert.Equal(shardReads + 4, host.Traffic.Count("GET", ".bin")); // ... and now reads them from storage, to the same model
        Assert.Equal(featureBlobs, await CountAsync(StorageNames.Features));
        Assert.NotEqual(outcome.PublishedModelId, rerun.PublishedModelId);
        Assert.Equal(outcome.Metrics.Accuracy, rerun.Metrics.Accuracy);
        // Its report compares it with the model that was published while it trained.
        var rerunReport = (await AssertReportAsync(rerun.PublishedModelId!, (await Registry.ReadMetricsAsync(rerun.PublishedModelId!))!));
        Assert.Contains("id=\"comparison\"", rerunReport);
        Assert.Contains($"<code>{outcome.PublishedModelId}</code>", rerunReport);

        // One more photo: only the shard its content hash falls in is featurized again.
        await host.Blobs.GetBlobContainerClient(StorageNames.Datasets).GetBlobClient(StorageNames.DatasetPhotoBlob("shapes", "square", "new.jpg"))
            .UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("square", 4242)));
        var grown = (await host.RunAsync(body)).ReadOutputAs<TrainingOutcome>()!;
        Assert.Equal(26, grown.Photos);
        Assert.InRange(grown.PhotosFeaturized, 1, 12);

        // The re-run found every shard in one lookup; a shard whose summary is gone is the one left to featurize.
        var shardFinder = host.Services.GetRequiredService<FeaturizeShardActivity>();
        var lookup = new FeatureShardsInput("shapes", StorageNames.SplitManifestBlob("shapes"), 4, metrics.InputSize!.Chosen);
        var found = await shardFinder.FindDoneAsync(lookup);
        Assert.All(found, shard => Assert.NotNull(shard));
        Assert.Equal(25, found.Sum(shard => shard!.Photos - shard.Skipped));
        var summary = found[2]!.ShardBlob.Replace(".bin", ".json");
        await host.Blobs.GetBlobContainerClient(StorageNames.Features).GetBlobClient(summary).DeleteAsync();
        found = await shardFinder.FindDoneAsync(lookup);
        Assert.Equal([true, true, false, true], found.Select(shard => shard is not null));
    }

    [Fact]
    public async Task A_run_told_its_input_size_featurizes_at_it_and_its_model_labels_at_it_too()
    {
        await PipelineServices.UploadDatasetAsync(host.Blobs, "shapes-size", SyntheticPhotos.Classes, perClass: 6, seed: 500);

        var run = await host.RunAsync("""{ "blobPrefix": "shapes-size", "inputSize": 64 }""");

        PipelineHost.AssertCompleted(run);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        var metrics = (await Registry.ReadMetricsAsync(outcome.Metrics.ModelId))!;
        Assert.Equal(Flowers.Featurize.InputSizeChoice.Told(64), metrics.InputSize);
        Assert.Contains("-64-", metrics.Featurizer);
        Assert.Equal(outcome.Metrics.ModelId, outcome.PublishedModelId);
        var name = "sized/one.jpg";
        await host.Blobs.GetBlobContainerClient(StorageNames.Uploads).GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("circle", 501)));
        var label = await host.Services.GetRequiredService<Flowers.Labelling.UploadLabeller>().LabelAsync(name);
        Assert.NotNull(label?.Label);
        Assert.Equal(outcome.PublishedModelId, label.ModelId);
    }

    [Fact]
    public async Task An_activity_that_fails_once_is_retried_and_the_run_still_succeeds()
    {
        await PipelineServices.UploadDatasetAsync(host.Blobs, "shapes-retry", SyntheticPhotos.Classes, perClass: 6, seed: 300);
        var faultsBefore = host.Traffic.FaultsInjected;
        // The first read of the split manifest (by the featurize stage) meets a 503.
        host.Traffic.FailNext(m => m.Request.Method == Azure.Core.RequestMethod.Get
            && m.Request.Uri.Path.EndsWith($"/{StorageNames.Datasets}/{StorageNames.SplitManifestBlob("shapes-retry")}", StringComparison.Ordinal));

        var run = await host.RunAsync("""{ "blobPrefix": "shapes-retry", "shardSize": 6 }""");

        PipelineHost.AssertCompleted(run);
        Assert.Equal(1, host.Traffic.FaultsInjected - faultsBefore);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        Assert.NotNull(outcome.PublishedModelId);
        Assert.Equal(18, outcome.Photos);
    }

    [Fact]
    public async Task A_run_whose_gate_fails_publishes_nothing_and_says_why()
    {
        // Three "classes" of the same random scribbles: no classifier can reach the gate.
        await PipelineServices.UploadDatasetAsync(host.Blobs, "noise", ["a", "b", "c"], perClass: 10, seed: 700, drawAs: _ => "noise");
        var before = await Registry.GetCurrentETagAsync();

        var run = await host.RunAsync("""{ "blobPrefix": "noise", "shardSize": 16, "minAccuracy": 0.99 }""");

        PipelineHost.AssertCompleted(run);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        Assert.Null(outcome.PublishedModelId);
        Assert.Contains("minAccuracy", outcome.NotPublishedReason);
        Assert.True(outcome.Metrics.Accuracy < 0.99);
        Assert.Equal(before, await Registry.GetCurrentETagAsync());
        Assert.NotNull(await Registry.ReadMetricsAsync(outcome.Metrics.ModelId)); // trained and kept, just not published
    }

    [Fact]
    public async Task A_run_on_a_prefix_with_no_photos_fails_with_the_reason()
    {
        var run = await host.RunAsync("""{ "blobPrefix": "nothing-here" }""");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, run.RuntimeStatus);
        var view = (await TrainingRuns.GetAsync(host.Client, run.InstanceId))!;
        Assert.Contains("no photos", view.Error);
        Assert.Equal(RunFailure.UnusableDataset, view.ErrorCode);
        Assert.DoesNotContain("Exception", view.Error);
    }

    [Fact]
    public async Task A_bad_request_schedules_nothing_and_names_the_field()
    {
        var start = await host.Services.GetRequiredService<TrainingRuns>().StartAsync(host.Client, """{ "blobPrefix": "shapes-bad", "seed": -1 }""");

        Assert.Equal(TrainingStartStatus.Invalid, start.Status);
        Assert.StartsWith("seed:", start.Error);
        Assert.Null(await host.Client.GetInstanceAsync(TrainingRuns.InstanceIdFor("shapes-bad")));
    }

    /// <summary>The model's report: report.html and three PNGs under models/{id}/, served with their content types.</summary>
    private async Task<string> AssertReportAsync(string modelId, RunMetrics metrics)
    {
        var models = host.Blobs.GetBlobContainerClient(StorageNames.Models);
        foreach (var file in StorageNames.ReportFiles)
            Assert.Equal(ModelReportFile.ContentTypeOf(file),
                (await models.GetBlobClient(StorageNames.ModelReportBlob(modelId, file)).GetPropertiesAsync()).Value.ContentType);
        foreach (var picture in new[] { RunReport.PreviewFile, RunReport.ConfusionFile, RunReport.MisclassifiedFile })
        {
            var file = (await Registry.ReadReportFileAsync(modelId, picture))!;
            Assert.Equal(picture == RunReport.ConfusionFile ? "image/png" : "image/jpeg", file.ContentType);
            using var bitmap = SkiaSharp.SKBitmap.Decode(file.Content.ToArray());
            Assert.True(bitmap is { Width: > 100, Height: > 100 }, $"{picture} of {modelId} is not a picture");
        }
        var page = (await Registry.ReadReportFileAsync(modelId, file: null))!;
        Assert.Equal("text/html; charset=utf-8", page.ContentType);
        var html = page.Content.ToString();
        Assert.Contains(FormattableString.Invariant($"Test accuracy <strong>{metrics.Accuracy * 100:0.0}%</strong>"), html);
        Assert.Contains($"<tr><th>data set</th><td>{StorageNames.Datasets}/shapes</td></tr>", html);
        Assert.Contains("circle/broken.jpg", html);
        return html;
    }

    private async Task<int> CountAsync(string container)
    {
        var count = 0;
        await foreach (var _ in host.Blobs.GetBlobContainerClient(container).GetBlobsAsync()) count++;
        return count;
    }
}
