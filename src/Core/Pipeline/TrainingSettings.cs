namespace Flowers.Pipeline;

/// <summary>App settings of the training pipeline (configuration section "Training", e.g. Training__AllowPrivateSources).</summary>
public sealed record TrainingSettings
{
    /// <summary>Let data-set URLs point at loopback/private/link-local addresses. Off by default: a URL from a
    /// request must not reach the app's own network (server-side request forgery).</summary>
    public bool AllowPrivateSources { get; init; }

    /// <summary>Where downloaded archives are cached and extracted during ingest.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "flowers-cache");

    /// <summary>Photos downloaded at once by ingest and by each featurize activity.</summary>
    public int TransferParallelism { get; init; } = 8;
}
