using System.Diagnostics;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Runs;

/// <summary>The features and labels a model is trained and tested on, and what a run has left out so far.</summary>
/// <param name="ModelId">The model's id; null names it by its content (<see cref="ModelPackage.Create"/>).</param>
public sealed record ModelTrainingInput(
    IReadOnlyList<string> Classes, IReadOnlyList<LabeledFeatures> Train, IReadOnlyList<LabeledFeatures> Test,
    IReadOnlyList<SkippedPhoto> Skipped, FeaturizerOptions Featurizer, string FeaturizerId, TrainerOptions Trainer,
    string DatasetFingerprint, double AcquireSeconds, double FeaturizeSeconds, double FeaturizeImagesPerSecond,
    DateTimeOffset StartedAt, string? ModelId = null, InputSizeChoice? InputSize = null);

/// <summary>A trained and evaluated model, ready to save.</summary>
public sealed record TrainedModel(ModelPackage Package, RunMetrics Metrics, double TrainSeconds);

/// <summary>Where a run's report gets its words and photos.</summary>
/// <param name="Dataset">The data set as the report names it (a folder, a URL, a container path).</param>
/// <param name="ReadPhotosAsync">Photo bytes by image name ("{class}/{file}"), null for one that cannot be read.</param>
/// <param name="Published">The metrics of the model published when this one was trained, to compare with.</param>
public sealed record ReportSources(
    string Title, string Dataset, SplitOptions Split,
    Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyDictionary<string, byte[]?>>> ReadPhotosAsync,
    RunMetrics? Published = null, string? PublishedModelId = null);

/// <summary>
/// The step every training run takes once its photos are featurized, in process or durable: train the classifier on
/// the train side, evaluate it on the test side, package it with its metrics, and render the run's report.
/// </summary>
public static class ModelTraining
{
    public static TrainedModel TrainAndEvaluate(ModelTrainingInput input, IProgress<StageProgress>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        progress?.Report(new StageProgress(TrainingStages.Train, 0, 100, $"{input.Trainer.Trainer} on {input.Train.Count} photos"));
        IProgress<double>? Part(double from, double to) => progress is null ? null
            : new ReportNow<double>(f => progress.Report(new StageProgress(TrainingStages.Train, (long)((from + f * (to - from)) * 99), 100)));
        var stages = input.Featurizer.StageChannels;
        var (trainer, choice) = HyperParameterSearch.Resolve(input.Classes, input.Train, input.Trainer, stages, Part(0, 0.8));
        var classifier = ClassifierTrainer.Train(input.Classes, input.Train, trainer, stages, Part(0.8, 1));
        var evaluation = Evaluator.Evaluate(classifier, input.Test);
        var trainSeconds = clock.Elapsed.TotalSeconds;

        var metrics = evaluation.ToRunMetrics(
            trainCount: input.Train.Count,
            skipped: input.Skipped.OrderBy(s => s.Image, StringComparer.Ordinal).ToArray(),
            featurizer: input.FeaturizerId,
            trainer: input.Trainer.Trainer,
            timings: new RunTimings(Round(input.AcquireSeconds), Round(input.FeaturizeSeconds), Round(trainSeconds),
                Round((DateTimeOffset.UtcNow - input.StartedAt).TotalSeconds)),
            featurizeImagesPerSecond: Math.Round(input.FeaturizeImagesPerSecond, 1)) with { HyperParameters = choice, InputSize = input.InputSize };
        var package = ModelPackage.Create(classifier, input.Featurizer, input.FeaturizerId, trainer,
            MetricsSummary.From(metrics), input.DatasetFingerprint, DateTimeOffset.UtcNow, input.ModelId);
        return new TrainedModel(package, metrics, trainSeconds);
    }

    /// <summary>report.html and its pictures, by file name: sample photos of the train side and the misclassified test photos.</summary>
    public static async Task<IReadOnlyDictionary<string, byte[]>> RenderReportAsync(TrainedModel model, ModelTrainingInput input,
        ReportSources sources, CancellationToken ct = default)
    {
        var sampleImages = SamplePhoto.Choose(input.Train.Select(t => t.Image));
        var pictured = sampleImages.Concat(RunReport.PicturedMistakes(model.Metrics)).ToHashSet(StringComparer.Ordinal);
        var photos = await sources.ReadPhotosAsync(pictured, ct).ConfigureAwait(false);
        var report = new ReportInput(
            model.Metrics,
            Title: sources.Title,
            Settings: ReportSettings.Describe(model.Package.ModelId, sources.Dataset, sources.Split, model.Package.Manifest.Featurizer, model.Package.Manifest.TrainerOptions),
            Counts: ClassCounts.Tally(input.Classes, input.Train.Select(t => t.Image), input.Test.Select(t => t.Image), model.Metrics.Skipped),
            Samples: sampleImages.Where(image => photos.GetValueOrDefault(image) is not null)
                .Select(image => new SamplePhoto(ClassCounts.ClassOf(image), image, photos[image]!)).ToList(),
            ReadPhoto: image => photos.GetValueOrDefault(image),
            Published: sources.Published,
            PublishedModelId: sources.Published is null ? null : sources.PublishedModelId);
        return RunReport.Render(report);
    }

    static double Round(double seconds) => Math.Round(seconds, 2);

    /// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, which posts to a context.</summary>
    internal sealed class ReportNow<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
