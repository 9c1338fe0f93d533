using System.Globalization;
using System.Text.Json;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Report;

/// <summary>
/// The settings table of a run report, worded the same for a local run and a pipeline run: where the photos
/// came from, how they were split, and the options of the featurizer and the trainer.
/// </summary>
public static class ReportSettings
{
    /// <summary>Trainer options that only LightGbm reads; a linear trainer's report leaves them out.</summary>
    private static readonly string[] LightGbmOnly =
    [
        nameof(TrainerOptions.NumberOfLeaves), nameof(TrainerOptions.NumberOfIterations),
        nameof(TrainerOptions.LearningRate), nameof(TrainerOptions.MinimumExampleCountPerLeaf),
    ];

    /// <summary>Options that only the linear trainers read.</summary>
    private static readonly string[] LinearOnly =
    [
        nameof(TrainerOptions.L2), nameof(TrainerOptions.L1), nameof(TrainerOptions.MaxIterations), nameof(TrainerOptions.Normalize),
        nameof(TrainerOptions.ValidationFolds),
    ];

    /// <summary>Featurizer options that change how fast, not what, it computes.</summary>
    private static readonly string[] SpeedOnly = [nameof(FeaturizerOptions.IntraOpThreads), nameof(FeaturizerOptions.ConcurrentRuns)];

    /// <param name="dataset">Where the photos came from, as the user named it (folder, URL, blob prefix).</param>
    public static IReadOnlyDictionary<string, string> Describe(string modelId, string dataset, SplitOptions split,
        FeaturizerOptions featurizer, TrainerOptions trainer)
    {
        var skip = trainer.Trainer == TrainerOptions.LightGbm ? LinearOnly : LightGbmOnly;
        return new Dictionary<string, string>
        {
            ["model"] = modelId,
            ["data set"] = dataset,
            ["test fraction"] = split.TestFraction.ToString("0.###", CultureInfo.InvariantCulture),
            ["split seed"] = split.Seed.ToString(CultureInfo.InvariantCulture),
            ["featurizer options"] = Flatten(featurizer, SpeedOnly),
            ["trainer options"] = Flatten(trainer, skip.Append(nameof(TrainerOptions.Trainer)).ToArray()),
        };
    }

    /// <summary>"name=value, ..." over the options' scalar JSON fields, in declaration order: new options show up
    /// without touching this code.</summary>
    private static string Flatten<T>(T options, IReadOnlyCollection<string>? leaveOut = null)
    {
        var json = JsonSerializer.SerializeToElement(options, RunMetrics.Json);
        var omitted = (leaveOut ?? []).Select(JsonNamingPolicy.CamelCase.ConvertName).ToHashSet(StringComparer.Ordinal);
        return string.Join(", ", json.EnumerateObject()
            .Where(p => !omitted.Contains(p.Name) && p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
            .Select(p => $"{p.Name}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}"));
    }
}
