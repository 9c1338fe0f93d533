using Flowers.Acquire;

namespace Flowers.Evaluate;

/// <summary>The classifier's probabilities for one test photo (averaged over its views).</summary>
/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
/// <param name="Actual">Its true class.</param>
/// <param name="Probabilities">One per class, in the classifier's class order.</param>
public sealed record PhotoPrediction(string Image, string Actual, float[] Probabilities);

/// <summary>How well a classifier did on the test photos. Matrices have rows = actual, columns = predicted.</summary>
public sealed record Evaluation
{
    public required IReadOnlyList<string> Classes { get; init; }
    public required int Count { get; init; }
    /// <summary>Share of test photos labelled correctly (micro accuracy).</summary>
    public required double Accuracy { get; init; }
    /// <summary>Mean over classes (those with test photos) of the share labelled correctly.</summary>
    public required double MacroAccuracy { get; init; }
    /// <summary>Mean of -ln(probability given to the true class), natural log, clamped at 1e-15.</summary>
    public required double LogLoss { get; init; }
    public required IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; init; }
    public required IReadOnlyList<IReadOnlyList<double>> ConfusionMatrixNormalized { get; init; }
    public required IReadOnlyList<ClassMetrics> PerClass { get; init; }
    /// <summary>Wrong photos, most confident first.</summary>
    public required IReadOnlyList<Misclassification> Misclassified { get; init; }

    /// <summary>The metrics.json of a run, from this evaluation and what the run knows besides.</summary>
    public RunMetrics ToRunMetrics(int trainCount, IReadOnlyList<SkippedPhoto> skipped, string featurizer, string trainer,
        RunTimings timings, double featurizeImagesPerSecond) => new()
    {
        Accuracy = Accuracy,
        MacroAccuracy = MacroAccuracy,
        LogLoss = LogLoss,
        Classes = Classes,
        ConfusionMatrix = ConfusionMatrix,
        ConfusionMatrixNormalized = ConfusionMatrixNormalized,
        PerClass = PerClass,
        Misclassified = Misclassified,
        TrainCount = trainCount,
        TestCount = Count,
        Skipped = skipped,
        Featurizer = featurizer,
        Trainer = trainer,
        Timings = timings,
        FeaturizeImagesPerSecond = featurizeImagesPerSecond,
    };
}
