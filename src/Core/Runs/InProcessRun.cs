using System.Diagnostics;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Runs;

/// <summary>What a training run produced.</summary>
/// <param name="ReportPath">report.html; the pictures it embeds are beside it (<see cref="RunReport.Files"/>).</param>
public sealed record InProcessRunResult(RunMetrics Metrics, ModelPackage Package, string MetricsPath, string PackagePath, string ReportPath);

/// <summary>
/// The local, in-process composition of every stage for `flowers train`: acquire -> split -> featurize
/// (through the feature cache, so a re-run featurizes nothing) -> train -> evaluate -> package, and the run's
/// report (<see cref="RunReport"/>: report.html and its pictures) beside metrics.json and model.flowers.
/// A photo that cannot be read is skipped with its reason; it never fails the run.
/// </summary>
public sealed class InProcessRun
{
    public const string MetricsFileName = "metrics.json";

    /// <summary>Photos featurized between two writes of the feature cache: an interrupted run keeps most of its work.</summary>
    private const int FlushEvery = 256;

    public async Task<InProcessRunResult> RunAsync(RunOptions o, IProgress<StageProgress>? p = null, CancellationToken ct = default)
    {
        o.Trainer.Validate(); // before the slow stages: a typo should not cost a download
        var startedAt = DateTimeOffset.UtcNow;

        var acquireClock = Stopwatch.StartNew();
        var dataset = await new DatasetAcquirer(o.Acquire).AcquireAsync(o.Dataset,
            p is null ? null : new ModelTraining.ReportNow<AcquireProgress>(a => p.Report(new StageProgress(TrainingStages.Ingest, a.Done, a.Total, $"{a.Stage}: {a.Item}"))),
            ct).ConfigureAwait(false);
        var split = DatasetSplitter.Split(dataset, o.Split);
        var acquireSeconds = acquireClock.Elapsed.TotalSeconds;
        p?.Report(new StageProgress(TrainingStages.Ingest, 1, 1, $"{dataset.Photos.Count} photos in {dataset.Classes.Count} classes"));

        var skipped = new List<SkippedPhoto>(dataset.Skipped);
        skipped.AddRange(split.Skipped);

        var featurizeClock = Stopwatch.StartNew();
        var inputSize = o.ChooseInputSize ? ChooseInputSize(dataset, split) : InputSizeChoice.Told(o.Featurizer.InputSize);
        var options = inputSize.Apply(o.Featurizer);
        // Built only when a photo is missing from the feature cache: its ONNX sessions take a second or two.
        var featurizer = new Lazy<PhotoFeaturizer>(() => PhotoFeaturizer.Create(options));
        using var disposeFeaturizer = new LazyDisposal<PhotoFeaturizer>(featurizer);
        var (features, fresh, featurizingSeconds) = Featurize(dataset, split, options, featurizer, o.FeatureCache, skipped, p, ct);
        var featurizeSeconds = featurizeClock.Elapsed.TotalSeconds;

        LabeledFeatures[] Side(SplitSide side) => split.Entries
            .Where(e => e.Side == side && features.ContainsKey(e.ContentHash))
            .Select(e => new LabeledFeatures(e.Image, e.Class, features[e.ContentHash]))
            .ToArray();
        ct.ThrowIfCancellationRequested();
        var input = new ModelTrainingInput(split.Classes, Side(SplitSide.Train), Side(SplitSide.Test), skipped,
            options, options.Id, o.Trainer, dataset.Fingerprint, acquireSeconds, featurizeSeconds,
            fresh > 0 ? fresh / featurizingSeconds : 0, startedAt, InputSize: inputSize);
        var model = await Task.Run(() => ModelTraining.TrainAndEvaluate(input, p), ct).ConfigureAwait(false);

        Directory.CreateDirectory(o.OutputDirectory);
        var packagePath = Path.Combine(o.OutputDirectory, ModelPackage.FileName);
        model.Package.Save(packagePath);
        var metricsPath = Path.Combine(o.OutputDirectory, MetricsFileName);
        await File.WriteAllTextAsync(metricsPath, model.Metrics.ToJson(), ct).ConfigureAwait(false);
        var reportPath = await WriteReportAsync(o, dataset, split, input, model, ct).ConfigureAwait(false);
        p?.Report(new StageProgress(TrainingStages.Train, 100, 100, packagePath));
        return new InProcessRunResult(model.Metrics, model.Package, metricsPath, packagePath, reportPath);
    }

    /// <summary>As the durable pipeline's ingest chooses it: from the same sample of the training photos.</summary>
    private static InputSizeChoice ChooseInputSize(Dataset dataset, SplitManifest split)
    {
        var files = dataset.Photos.ToDictionary(photo => photo.Image, photo => photo.FilePath, StringComparer.Ordinal);
        return InputSizeChoice.From(InputSizeChoice.PhotosToRead(split).Select(e =>
        {
            try { return File.ReadAllBytes(files[e.Image]); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; } // featurizing will say why
        }));
    }

    /// <summary>Writes report.html and its pictures into the output directory. There is no registry locally,
    /// so the page compares with nothing.</summary>
    private static async Task<string> WriteReportAsync(RunOptions o, Dataset dataset, SplitManifest split,
        ModelTrainingInput input, TrainedModel model, CancellationToken ct)
    {
        var byImage = dataset.Photos.ToDictionary(photo => photo.Image, StringComparer.Ordinal);
        byte[]? ReadPhoto(string image)
        {
            // A photo that went missing since it was featurized becomes a placeholder tile, not a failed run.
            try { return byImage.TryGetValue(image, out var photo) ? File.ReadAllBytes(photo.FilePath) : null; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        }
        var sources = new ReportSources(
            Title: $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.OutputDirectory)))} · model {model.Package.ModelId}",
            Dataset: o.Dataset ?? AcquireOptions.DefaultUrl,
            Split: split.Options,
            ReadPhotosAsync: (images, _) => Task.FromResult<IReadOnlyDictionary<string, byte[]?>>(images.ToDictionary(i => i, ReadPhoto, StringComparer.Ordinal)));
        foreach (var (file, bytes) in await ModelTraining.RenderReportAsync(model, input, sources, ct).ConfigureAwait(false))
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
        p?.Report(new StageProgress(TrainingStages.Featurize, done, total, $"{done} from the cache"));

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
                    p?.Report(new StageProgress(TrainingStages.Featurize, ++done, total));
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
            p?.Report(new StageProgress(TrainingStages.Featurize, ++done, total));
        }
        cache.Flush();
        var seconds = clock.Elapsed.TotalSeconds;

        // Every copy of a photo that failed is skipped, each under its own name.
        foreach (var photo in wanted)
            if (failed.TryGetValue(photo.ContentHash, out var reason))
                skipped.Add(new SkippedPhoto(photo.Image, reason));
        return (features, todo.Count - failed.Count, seconds);
    }

    /// <summary>Disposes a lazily built value, if it was built.</summary>
    private sealed class LazyDisposal<T>(Lazy<T> lazy) : IDisposable where T : IDisposable
    {
        public void Dispose()
        {
            if (lazy.IsValueCreated) lazy.Value.Dispose();
        }
    }
}
