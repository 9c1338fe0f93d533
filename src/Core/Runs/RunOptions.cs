using Flowers.Acquire;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Runs;

/// <summary>Everything `flowers train` can be told.</summary>
public sealed record RunOptions
{
    /// <summary>A folder, a .tgz/.tar.gz/.zip file or an http(s) URL; null = <see cref="AcquireOptions.DefaultUrl"/>.</summary>
    public string? Dataset { get; init; }

    /// <summary>Where metrics.json and model.flowers are written (created if missing).</summary>
    public required string OutputDirectory { get; init; }

    public SplitOptions Split { get; init; } = new();
    public FeaturizerOptions Featurizer { get; init; } = new();

    /// <summary>True: the network's input size is chosen from the training photos' size (<see cref="InputSizeChoice"/>),
    /// as the durable pipeline does; false: <see cref="FeaturizerOptions.InputSize"/> of <see cref="Featurizer"/> as given.</summary>
    public bool ChooseInputSize { get; init; } = true;
    public TrainerOptions Trainer { get; init; } = new();
    public AcquireOptions Acquire { get; init; } = new();

    /// <summary>Bottleneck-feature cache; null = "features" under the acquire cache directory.</summary>
    public string? FeatureCacheDirectory { get; init; }

    public string FeatureCache => FeatureCacheDirectory ?? Path.Combine(Acquire.CacheDirectory, "features");
}
