namespace Flowers.Pipeline;

/// <summary>App settings of the training pipeline (configuration section "Training", e.g. Training__AllowPrivateSources).</summary>
public sealed record TrainingSettings
{
    /// <summary>Let data-set URLs point at loopback/private/link-local addresses. Off by default: a URL from a
    /// request must not reach the app's own network (server-side request forgery).</summary>
    public bool AllowPrivateSources { get; init; }

    /// <summary>Let the source be a folder or archive on the host's own disk (absolute path). Only the local host
    /// turns this on, for `flowers train --dataset ./photos`; a deployed app must never read its own files.</summary>
    public bool AllowLocalSources { get; init; }

    /// <summary>Folders below which local sources may be, separated by ':' (';' on Windows). Null: the user's home
    /// and temporary folders (<see cref="LocalSourceFolders"/>).</summary>
    public string? LocalSourceRoots { get; init; }

    /// <summary><see cref="LocalSourceRoots"/> as a list.</summary>
    public IReadOnlyList<string> LocalSourceFolders() => LocalSourceRoots is { } configured
        ? configured.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).ToList()
        : [Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), Path.GetTempPath()];

    /// <summary>Where downloaded archives are cached and extracted during ingest.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "flowers-cache");

    /// <summary>Largest photo a data set takes (Training__MaxPhotoBytes), from a source or a blobPrefix; a larger one is
    /// listed as skipped, never read whole into memory.</summary>
    public long MaxPhotoBytes { get; init; } = Flowers.Acquire.AcquireOptions.DefaultMaxPhotoBytes;

    /// <summary>Photos downloaded at once by ingest and by each featurize activity.</summary>
    public int TransferParallelism { get; init; } = 8;

    /// <summary>Memory for the feature shards this process wrote and its train step has not read yet
    /// (<see cref="RecentFeatureShards"/>); 0 turns it off. flowers128's features take 33 MB.</summary>
    public long RecentFeatureBytes { get; init; } = 128L << 20;
}
