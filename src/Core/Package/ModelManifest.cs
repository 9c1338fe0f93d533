using System.Text.Json;
using System.Text.Json.Serialization;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Train;

namespace Flowers.Package;

/// <summary>
/// manifest.json of a model package: everything needed to use the classifier on new photos (classes,
/// how to featurize them) and to know where it came from (trainer, metrics, data set, time).
/// </summary>
public sealed record ModelManifest
{
    /// <summary>The package layout this build writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    /// <summary>"yyyyMMdd-HHmmss-{8 hex}": creation time (UTC) and a hash of the classifier and its inputs.</summary>
    public required string ModelId { get; init; }
    public required IReadOnlyList<string> Classes { get; init; }
    /// <summary>Options to create the <see cref="PhotoFeaturizer"/> that makes the features this classifier expects.</summary>
    public required FeaturizerOptions Featurizer { get; init; }
    public required string FeaturizerId { get; init; }
    public required string Trainer { get; init; }
    public required TrainerOptions TrainerOptions { get; init; }
    public required MetricsSummary Metrics { get; init; }
    public required string DatasetFingerprint { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The headline test metrics of the run that made a model (the full set is in its metrics.json).</summary>
public sealed record MetricsSummary(double Accuracy, double MacroAccuracy, double LogLoss, int TrainCount, int TestCount)
{
    public static MetricsSummary From(RunMetrics metrics) =>
        new(metrics.Accuracy, metrics.MacroAccuracy, metrics.LogLoss, metrics.TrainCount, metrics.TestCount);
}

/// <summary>A model package that cannot be used: not a package, damaged, or from a newer format.</summary>
public sealed class ModelPackageException(string message, Exception? inner = null) : Exception(message, inner);
