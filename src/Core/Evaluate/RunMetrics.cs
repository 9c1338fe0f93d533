using System.Text.Json;
using System.Text.Json.Serialization;
using Flowers.Acquire;

namespace Flowers.Evaluate;

/// <summary>
/// metrics.json: what a training run measured. Later stages (report, publish gate, bench) read it,
/// so its JSON shape is a contract: camelCase names as below.
/// </summary>
public sealed record RunMetrics
{
    public required double Accuracy { get; init; }
    public required double MacroAccuracy { get; init; }
    public required double LogLoss { get; init; }
    public required IReadOnlyList<string> Classes { get; init; }
    /// <summary>Counts; rows are the actual class, columns the predicted class.</summary>
    public required IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; init; }
    /// <summary>Each row of <see cref="ConfusionMatrix"/> divided by its sum (0 for an empty row).</summary>
    public required IReadOnlyList<IReadOnlyList<double>> ConfusionMatrixNormalized { get; init; }
    public required IReadOnlyList<ClassMetrics> PerClass { get; init; }
    /// <summary>Wrong test photos, worst (most confident) first.</summary>
    public required IReadOnlyList<Misclassification> Misclassified { get; init; }
    public required int TrainCount { get; init; }
    public required int TestCount { get; init; }
    public required IReadOnlyList<SkippedPhoto> Skipped { get; init; }
    public required string Featurizer { get; init; }
    public required string Trainer { get; init; }
    public required RunTimings Timings { get; init; }
    public required double FeaturizeImagesPerSecond { get; init; }
    /// <summary>How the head's L2 was chosen on the training photos; null when it was given.</summary>
    public Flowers.Train.HyperParameterChoice? HyperParameters { get; init; }
    /// <summary>The network's input size and how it was chosen from the training photos; null in older metrics.</summary>
    public Flowers.Featurize.InputSizeChoice? InputSize { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public static RunMetrics FromJson(string json) =>
        JsonSerializer.Deserialize<RunMetrics>(json, Json) ?? throw new InvalidDataException("metrics.json is empty");
}

public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
public sealed record Misclassification(string Image, string Actual, string Predicted, double Confidence);

public sealed record RunTimings(double AcquireSeconds, double FeaturizeSeconds, double TrainSeconds, double TotalSeconds);
