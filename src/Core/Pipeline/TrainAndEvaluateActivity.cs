using System.Diagnostics;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Split;
using Flowers.Storage;
using Flowers.Train;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

/// <summary>
/// Train + evaluate: reads the split manifest and the feature shards, trains the classifier on the train
/// side, evaluates it on the test side and saves models/{modelId}/ (package, manifest, metrics.json,
/// misclassified list) and its run report, compared with the model published at the time. Publishing is a separate step.
/// </summary>
public sealed class TrainAndEvaluateActivity(FlowersStorage storage, DatasetPhotos datasetPhotos, ModelRegistry registry, FeaturizerCatalog featurizers,
    SplitManifests manifests, RecentFeatureShards recent, ILogger<TrainAndEvaluateActivity> log)
{
    public const string Name = "TrainAndEvaluate";

    public async Task<TrainResult> RunAsync(TrainInput input, CancellationToken ct = default)
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

        var clock = Stopwatch.StartNew();
        var classifier = ClassifierTrainer.Train(manifest.Classes, train, input.Trainer);
        var evaluation = Evaluator.Evaluate(classifier, test);
        var trainSeconds = clock.Elapsed.TotalSeconds;

        var featurizerOptions = featurizers.DefaultOptions;
        if (featurizerOptions.Id != featurizerId)
            throw new InvalidOperationException($"features were made by {featurizerId} but this app featurizes with {featurizerOptions.Id}");
        var metrics = evaluation.ToRunMetrics(
            trainCount: train.Count,
            skipped: skipped,
            featurizer: featurizerId,
            trainer: input.Trainer.Trainer,
            timings: new RunTimings(input.AcquireSeconds, input.FeaturizeSeconds, trainSeconds,
                (DateTime.UtcNow - input.StartedAt).TotalSeconds),
            featurizeImagesPerSecond: input.FeaturizeSeconds > 0 ? input.PhotosFeaturized / input.FeaturizeSeconds : 0);
        var package = new ModelPackage(new ModelManifest
        {
            ModelId = input.ModelId,
            Classes = classifier.Classes,
            Featurizer = featurizerOptions,
            FeaturizerId = featurizerId,
            Trainer = input.Trainer.Trainer,
            TrainerOptions = input.Trainer,
            Metrics = MetricsSummary.From(metrics),
            DatasetFingerprint = input.DatasetFingerprint,
            CreatedAt = DateTimeOffset.UtcNow,
        }, classifier);
        await registry.SaveAsync(package, metrics, ct);
        clock.Restart();
        await registry.SaveReportAsync(input.ModelId, await RenderReportAsync(input, manifest, package, train, test, metrics, ct), ct);
        log.LogInformation("Model {ModelId}: accuracy {Accuracy:P1} on {Test} test photos; trained and evaluated in {Train:0.00} s, report in {Report:0.00} s",
            input.ModelId, metrics.Accuracy, test.Count, trainSeconds, clock.Elapsed.TotalSeconds);
        return new TrainResult(input.ModelId, metrics.Accuracy, metrics.MacroAccuracy, metrics.LogLoss, train.Count, test.Count, skipped.Count);
    }

    /// <summary>The run report: sample photos and misclassified thumbnails read from the data set, and the
    /// published model's metrics (when one is published) for the comparison.</summary>
    private async Task<IReadOnlyDictionary<string, byte[]>> RenderReportAsync(TrainInput input, SplitManifest manifest, ModelPackage package,
        List<LabeledFeatures> train, List<LabeledFeatures> test, RunMetrics metrics, CancellationToken ct)
    {
        var sampleImages = SamplePhoto.Choose(train.Select(t => t.Image));
        var pictured = sampleImages.Concat(RunReport.PicturedMistakes(metrics)).ToHashSet(StringComparer.Ordinal);
        var photos = await datasetPhotos.ReadSomeAsync(input.Dataset, manifest.Entries.Where(e => pictured.Contains(e.Image)), ct);
        var publishedId = (await registry.GetCurrentAsync(ct))?.Pointer.ModelId is { } id && id != input.ModelId ? id : null;
        var published = publishedId is null ? null : await registry.ReadMetricsAsync(publishedId, ct);
        var report = new ReportInput(
            metrics,
            Title: $"Model {input.ModelId}",
            Settings: ReportSettings.Describe(input.ModelId, $"{StorageNames.Datasets}/{input.Dataset}", manifest.Options,
                package.Manifest.Featurizer, input.Trainer),
            Counts: ClassCounts.Tally(manifest.Classes, train.Select(t => t.Image), test.Select(t => t.Image), metrics.Skipped),
            Samples: sampleImages.Where(image => photos.GetValueOrDefault(image) is not null)
                .Select(image => new SamplePhoto(ClassCounts.ClassOf(image), image, photos[image]!)).ToList(),
            ReadPhoto: image => photos.GetValueOrDefault(image),
            Published: published,
            PublishedModelId: published is null ? null : publishedId);
        return RunReport.Render(report);
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
