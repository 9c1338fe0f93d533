using System.Diagnostics;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Training;

/// <summary>What a training run produced.</summary>
/// <param name="ReportPath">report.html; the pictures it embeds are beside it (<see cref="RunReport.Files"/>).</param>
public sealed record TrainingResult(RunMetrics Metrics, ModelPackage Package, string MetricsPath, string PackagePath, string ReportPath);

/// <summary>
/// The local, in-process composition of every stage for `flowers train`: acquire -> split -> featurize
/// (through the feature cache, so a re-run featurizes nothing) -> train -> evaluate -> package, and the run's
/// report (<see cref="RunReport"/>: report.html and its pictures) beside metrics.json and model.flowers.
/// A photo that cannot be read is skipped with its reason; it never fails the run.
/// </summary>
public sealed class TrainingRun
{
    public const string MetricsFileName = "metrics.json";

    /// <summary>Photos featurized between two writes of the feature cache: an interrupted run keeps most of its work.</summary>
    private const int FlushEvery = 256;

    public async Task<TrainingResult> RunAsync(TrainingRunOptions o, IProgress<StageProgress>? p = null, CancellationToken ct = default)
    {
        o.Trainer.Validate(); // before the slow stages: a typo should not cost a download
        var total = Stopwatch.StartNew();

        var acquireClock = Stopwatch.StartNew();
        var dataset = await new DatasetAcquirer(o.Acquire).AcquireAsync(o.Dataset,
            p is null ? null : new SyncProgress<AcquireProgress>(a => p.Report(new StageProgress(Stages.Acquire, a.Done, a.Total, $"{a.Stage}: {a.Item}"))),
            ct).ConfigureAwait(false);
        var split = DatasetSplitter.Split(dataset, o.Split);
        var acquireSeconds = acquireClock.Elapsed.TotalSeconds;
        p?.Report(new StageProgress(Stages.Acquire, 1, 1, $"{dataset.Photos.Count} photos in {dataset.Classes.Count} classes"));

        var skipped = new List<SkippedPhoto>(dataset.Skipped);
        skipped.AddRange(split.Skipped);

        var featurizeClock = Stopwatch.StartNew();
        // Built only when a photo is missing from the feature cache: its ONNX sessions take a second or two.
        var featurizer = new Lazy<PhotoFeaturizer>(() => PhotoFeaturizer.Create(o.Featurizer));
        using var disposeFeaturizer = new LazyDisposal<PhotoFeaturizer>(featurizer);
        var (features, fresh, featurizingSeconds) = Featurize(dataset, split, o.Featurizer, featurizer, o.FeatureCache, skipped, p, ct);
        var featurizeSeconds = featurizeClock.Elapsed.TotalSeconds;

        LabeledFeatures[] Side(SplitSide side) => split.Entries
            .Where(e => e.Side == side && features.ContainsKey(e.ContentHash))
            .Select(e => new LabeledFeatures(e.Image, e.Class, features[e.ContentHash]))
            .ToArray();
        var train = Side(SplitSide.Train);
        var test = Side(SplitSide.Test);

        ct.ThrowIfCancellationRequested();
        var trainClock = Stopwatch.StartNew();
        p?.Report(new StageProgress(Stages.Train, 0, 100, $"{o.Trainer.Trainer} on {train.Length} photos"));
        var classifier = await Task.Run(() => ClassifierTrainer.Train(split.Classes, train, o.Trainer,
            p is null ? null : new SyncProgress<double>(f => p.Report(new StageProgress(Stages.Train, (long)(f * 100), 100)))), ct).ConfigureAwait(false);
        var trainSeconds = trainClock.Elapsed.TotalSeconds;

        p?.Report(new StageProgress(Stages.Evaluate, 0, test.Length));
        var evaluation = Evaluator.Evaluate(classifier, test);
        p?.Report(new StageProgress(Stages.Evaluate, test.Length, test.Length));

        p?.Report(new StageProgress(Stages.Package, 0, 1));
        var metrics = evaluation.ToRunMetrics(
            trainCount: train.Length,
            skipped: skipped.OrderBy(s => s.Image, StringComparer.Ordinal).ToArray(),
            featurizer: o.Featurizer.Id,
            trainer: o.Trainer.Trainer,
            timings: new RunTimings(Round(acquireSeconds), Round(featurizeSeconds), Round(trainSeconds), Round(total.Elapsed.TotalSeconds)),
            featurizeImagesPerSecond: fresh > 0 ? Math.Round(fresh / featurizingSeconds, 1) : 0);
        var package = ModelPackage.Create(classifier, o.Featurizer, o.Featurizer.Id, o.Trainer,
            MetricsSummary.From(metrics), dataset.Fingerprint, DateTimeOffset.UtcNow);

        Directory.CreateDirectory(o.OutputDirectory);
        var packagePath = Path.Combine(o.OutputDirectory, ModelPackage.FileName);
        package.Save(packagePath);
        var metricsPath = Path.Combine(o.OutputDirectory, MetricsFileName);
        await File.WriteAllTextAsync(metricsPath, metrics.ToJson(), ct).ConfigureAwait(false);
        var reportPath = await WriteReportAsync(o, dataset, split, train, test, metrics, package, ct).ConfigureAwait(false);
        p?.Report(new StageProgress(Stages.Package, 1, 1, packagePath));
        return new TrainingResult(metrics, package, metricsPath, packagePath, reportPath);
    }

    /// <summary>Writes report.html and its pictures into the output directory. There is no registry locally,
    /// so the page compares with nothing.</summary>
    private static async Task<string> WriteReportAsync(TrainingRunOptions o, Dataset dataset, SplitManifest split,
        LabeledFeatures[] train, LabeledFeatures[] test, RunMetrics metrics, ModelPackage package, CancellationToken ct)
    {
        var byImage = dataset.Photos.ToDictionary(photo => photo.Image, StringComparer.Ordinal);
        byte[]? ReadPhoto(string image)
        {
            // A photo that went missing since it was featurized becomes a placeholder tile, not a failed run.
            try { return byImage.TryGetValue(image, out var photo) ? File.ReadAllBytes(photo.FilePath) : null; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        }

        var samples = new List<SamplePhoto>();
        foreach (var image in SamplePhoto.Choose(train.Select(t => t.Image)))
            if (ReadPhoto(image) is { } bytes) samples.Add(new SamplePhoto(byImage[image].Class, image, bytes));
        var input = new ReportInput(
            metrics,
            Title: $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.OutputDirectory)))} · model {package.ModelId}",
            Settings: ReportSettings.Describe(package.ModelId, o.Dataset ?? AcquireOptions.DefaultUrl, split.Options, package.Manifest.Featurizer, o.Trainer),
            Counts: ClassCounts.Tally(split.Classes, train.Select(t => t.Image), test.Select(t => t.Image), metrics.Skipped),
            Samples: samples,
            ReadPhoto: ReadPhoto);
        foreach (var (file, bytes) in RunReport.Render(input))
            await File.WriteAllBytesAsync(Path.Combine(o.OutputDirectory, file), bytes, ct).ConfigureAwait(false);
        return Path.Combine(o.OutputDirectory, RunReport.PageFile);
    }

    /// <summary>
    /// Features of every photo in the split, by content hash: from the cache where it has them, else
    /// computed (each distinct photo once) and put in the cache. Photos that fail go to <paramref name="skipped"/>.
    /// </summary>
    private static (Dictionary<string, PhotoFeatures> Features, int Fresh, double FreshSeconds) Featurize(
        Dataset dataset, SplitManifest split, FeaturizerOptions options, Lazy<PhotoFeaturizer> featurizer, string cacheDirectory,
        List<SkippedPhoto> skipped, IProgress<StageProgress>? p, CancellationToken ct)
    {
        var byImage = dataset.Photos.ToDictionary(photo => photo.Image, StringComparer.Ordinal);
        var wanted = split.Entries.Select(e => byImage[e.Image]).ToList();
        var features = new Dictionary<string, PhotoFeatures>(StringComparer.Ordinal);
        using var cache = new LocalFeatureCache(cacheDirectory, options.Id);
        var dimension = ResNet18Model.Load(options.ModelDirectory, options.MultiLevel, options.Precision).Dimension;

        var todo = new List<DatasetPhoto>();
        var queued = new HashSet<string>(StringComparer.Ordinal);
        foreach (var photo in wanted)
        {
            if (cache.TryGet(photo.ContentHash, out var cached) && cached.Dimension == dimension)
                features[photo.ContentHash] = cached;
            else if (queued.Add(photo.ContentHash))
                todo.Add(photo);
        }
        var total = features.Count + todo.Count;
        long done = features.Count;
        p?.Report(new StageProgress(Stages.Featurize, done, total, $"{done} from the cache"));

        var clock = Stopwatch.StartNew();
        var failed = new Dictionary<string, string>(StringComparer.Ordinal); // content hash -> reason
        var sinceFlush = 0;
        IEnumerable<PhotoBytes> Readable()
        {
            foreach (var photo in todo)
            {
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(photo.FilePath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    failed[photo.ContentHash] = $"cannot be read: {e.Message}";
                    p?.Report(new StageProgress(Stages.Featurize, ++done, total));
                    continue;
                }
                yield return new PhotoBytes(photo.ContentHash, bytes);
            }
        }

        foreach (var outcome in todo.Count == 0 ? [] : featurizer.Value.FeaturizeAll(Readable(), ct))
        {
            if (outcome.Features is { } f)
            {
                features[outcome.Key] = f;
                cache.Put(outcome.Key, f);
                if (++sinceFlush >= FlushEvery)
                {
                    cache.Flush();
                    sinceFlush = 0;
                }
            }
            else
            {
                failed[outcome.Key] = outcome.Error ?? "could not be featurized";
            }
            p?.Report(new StageProgress(Stages.Featurize, ++done, total));
        }
        cache.Flush();
        var seconds = clock.Elapsed.TotalSeconds;

        // Every copy of a photo that failed is skipped, each under its own name.
        foreach (var photo in wanted)
            if (failed.TryGetValue(photo.ContentHash, out var reason))
                skipped.Add(new SkippedPhoto(photo.Image, reason));
        return (features, todo.Count - failed.Count, seconds);
    }

    private static double Round(double seconds) => Math.Round(seconds, 2);

    /// <summary>Disposes a lazily built value, if it was built.</summary>
    private sealed class LazyDisposal<T>(Lazy<T> lazy) : IDisposable where T : IDisposable
    {
        public void Dispose()
        {
            if (lazy.IsValueCreated) lazy.Value.Dispose();
        }
    }

    /// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, which posts to a context.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
