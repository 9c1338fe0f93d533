namespace Flowers.Acquire;

/// <summary>Where a data set is cached and the limits that keep a hostile archive or server harmless.</summary>
public sealed record AcquireOptions
{
    /// <summary>The TensorFlow flower_photos archive (5 classes, 3670 photos, ~218 MB): the default data set.</summary>
    public const string DefaultUrl = "http://download.tensorflow.org/example_images/flower_photos.tgz";

    /// <summary>Environment variable that moves the cache.</summary>
    public const string CacheEnvironmentVariable = "FLOWERS_CACHE";

    /// <summary>Downloads and extracted archives live here, keyed by URL or archive hash.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();

    /// <summary>Largest archive accepted, downloaded or local.</summary>
    public long MaxArchiveBytes { get; init; } = 4L << 30;

    /// <summary>Largest total of bytes extracted from one archive (a zip bomb stops here).</summary>
    public long MaxExtractedBytes { get; init; } = 8L << 30;

    /// <summary>Largest single extracted entry.</summary>
    public long MaxEntryBytes { get; init; } = 512L << 20;

    /// <summary>Largest photo a data set takes, the same as an upload's (UploadLabeller.MaxUploadBytes): featurize reads a
    /// photo whole into memory, so a few-MB archive of sparse 500 MB "JPEGs" could exhaust an instance. A larger file
    /// is listed as skipped with its size.</summary>
    public long MaxPhotoBytes { get; init; } = DefaultMaxPhotoBytes;

    public const long DefaultMaxPhotoBytes = 32L << 20;

    /// <summary>Why a photo of <paramref name="bytes"/> is left out, or null when it is within <paramref name="limit"/>.</summary>
    public static string? TooLargeReason(long bytes, long limit) =>
        bytes > limit ? $"too large: {bytes:N0} bytes (limit {limit:N0} bytes a photo)" : null;

    /// <summary>Most entries (files, folders) accepted in one archive.</summary>
    public int MaxEntries { get; init; } = 200_000;

    /// <summary>Client for downloads; null = one made per download with <see cref="ConnectTimeout"/>.</summary>
    public HttpClient? Http { get; init; }

    /// <summary>Short, so that an offline machine fails fast instead of hanging (only used when <see cref="Http"/> is null).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A download that receives nothing for this long (headers or body) is abandoned (and can be resumed).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A whole download, however steadily it trickles, stops after this (it can be resumed): the stall timer
    /// alone lets a server that sends a byte a minute hold an activity for ever. 30 min is 218 MB at ~120 kB/s.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>$FLOWERS_CACHE, else ~/.cache/flowers.</summary>
    public static string DefaultCacheDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return Path.GetFullPath(fromEnvironment);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
            home = Path.GetTempPath();
        return Path.Combine(home, ".cache", "flowers");
    }
}
