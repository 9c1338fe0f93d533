using System.Diagnostics;
using Flowers.Acquire;
using Flowers.Diagnostics;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Runs;
using Flowers.Split;
using Flowers.Storage;
using Flowers.Train;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

// What the orchestrator passes to this activity and gets back: names and counts, never photos or features.

public sealed record TrainInput(
    string Dataset, string ManifestBlob, IReadOnlyList<string> ShardBlobs, string ModelId, string DatasetFingerprint,
    TrainerOptions Trainer, double AcquireSeconds, double FeaturizeSeconds, int PhotosFeaturized, DateTime StartedAt,
    InputSizeChoice? InputSize = null);

public sealed record TrainResult(
    string ModelId, double Accuracy, double MacroAccuracy, double LogLoss, int TrainCount, int TestCount, int Skipped);

/// <summary>
/// Train + evaluate: reads the split manifest and the feature shards, trains the classifier on the train
/// side, evaluates it on the test side and saves models/{modelId}/ (package, manifest, metrics.json,
/// misclassified list) and its run report, compared with the model published at the time. Publishing is a separate step.
/// </summary>
public sealed class TrainAndEvaluateActivity(FlowersStorage storage, DatasetPhotos datasetPhotos, ModelRegistry registry, FeaturizerCatalog featurizers,
    SplitManifests manifests, RecentFeatureShards recent, ILogger<TrainAndEvaluateActivity> log)
{
    public const string Name = "TrainAndEvaluate";

    // The stage's span and duration (FlowersTelemetry), report included; the work is TrainAsync.
    public Task<TrainResult> RunAsync(TrainInput input, CancellationToken ct = default) =>
        FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Train, input.Dataset, () => TrainAsync(input, ct), modelId: input.ModelId);

    private async Task<TrainResult> TrainAsync(TrainInput input, CancellationToken ct)
    {
        var manifest = await manifests.ReadAsync(input.ManifestBlob, ct);
        var report = await storage.Datasets.GetBlobClient(StorageNames.IngestReportBlob(input.Dataset)).ReadOrDefaultAsync<IngestReport>(ct);

        var features = new Dictionary<string, PhotoFeatures>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        string? featurizerId = null;
        foreach (var shardBlob in input.ShardBlobs.Distinct())
        {
            var (shard, summary) = recent.Take(shardBlob) ?? await ReadShardAsync(shardBlob, ct);
            featurizerId ??= shard.FeaturizerId;
            if (shard.FeaturizerId != featurizerId)
                throw new InvalidDataException($"{shardBlob} was made by {shard.FeaturizerId}, the others by {featurizerId}");
            foreach (var (hash, f) in shard.Items) features[hash] = f;
            foreach (var s in summary.Skipped) reasons.TryAdd(s.ContentHash, s.Reason);
        }
        if (featurizerId is null) throw new InvalidOperationException($"data set {input.Dataset} has no feature shards");

        var skipped = (report?.Skipped ?? []).ToList();
        List<LabeledFeatures> Side(SplitSide side)
        {
            var rows = new List<LabeledFeatures>();
            foreach (var entry in manifest.Entries.Where(e => e.Side == side))
            {
                if (features.TryGetValue(entry.ContentHash, out var f)) rows.Add(new LabeledFeatures(entry.Image, entry.Class, f));
                else skipped.Add(new SkippedPhoto(entry.Image, reasons.GetValueOrDefault(entry.ContentHash, "no features")));
            }
            return rows;
        }
        var train = Side(SplitSide.Train);
        var test = Side(SplitSide.Test);

        var featurizerOptions = featurizers.OptionsFor(input.InputSize?.Chosen ?? 0);
        if (featurizerOptions.Id != featurizerId)
            throw new InvalidOperationException($"features were made by {featurizerId} but this app featurizes with {featurizerOptions.Id}");
        var training = new ModelTrainingInput(manifest.Classes, train, test, skipped, featurizerOptions, featurizerId, input.Trainer,
            input.DatasetFingerprint, input.AcquireSeconds, input.FeaturizeSeconds,
            input.FeaturizeSeconds > 0 ? input.PhotosFeaturized / input.FeaturizeSeconds : 0,
            new DateTimeOffset(DateTime.SpecifyKind(input.StartedAt, DateTimeKind.Utc)), input.ModelId, input.InputSize);
        var model = ModelTraining.TrainAndEvaluate(training);
        await registry.SaveAsync(model.Package, model.Metrics, ct);

        var clock = Stopwatch.StartNew();
        var publishedId = (await registry.GetCurrentAsync(ct))?.Pointer.ModelId is { } id && id != input.ModelId ? id : null;
        var sources = new ReportSources(
            Title: $"Model {input.ModelId}",
            Dataset: $"{StorageNames.Datasets}/{input.Dataset}",
            Split: manifest.Options,
            ReadPhotosAsync: async (images, token) => await datasetPhotos.ReadSomeAsync(input.Dataset, manifest.Entries.Where(e => images.Contains(e.Image)), token),
            Published: publishedId is null ? null : await registry.ReadMetricsAsync(publishedId, ct),
            PublishedModelId: publishedId);
        await registry.SaveReportAsync(input.ModelId, await ModelTraining.RenderReportAsync(model, training, sources, ct), ct);
        log.LogInformation("Model {ModelId}: accuracy {Accuracy:P1} on {Test} test photos; trained and evaluated in {Train:0.00} s, report in {Report:0.00} s",
            input.ModelId, model.Metrics.Accuracy, test.Count, model.TrainSeconds, clock.Elapsed.TotalSeconds);
        return new TrainResult(input.ModelId, model.Metrics.Accuracy, model.Metrics.MacroAccuracy, model.Metrics.LogLoss, train.Count, test.Count, skipped.Count);
    }

    private async Task<(FeatureShard, FeatureShardSummary)> ReadShardAsync(string blobName, CancellationToken ct)
    {
        using var bytes = new MemoryStream();
        await storage.Features.GetBlobClient(blobName).DownloadToAsync(bytes, ct);
        bytes.Position = 0;
        var summary = await storage.Features.GetBlobClient(Path.ChangeExtension(blobName, ".json")).ReadAsync<FeatureShardSummary>(ct);
        return (FeatureShard.ReadFrom(bytes), summary);
    }
}
