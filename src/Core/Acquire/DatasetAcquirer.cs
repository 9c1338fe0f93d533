using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Flowers.Acquire;

/// <summary>
/// Turns what the user named (a folder, a .tgz/.tar.gz/.zip archive, an http(s) URL, or nothing = the
/// flower_photos download) into a <see cref="Dataset"/>. Downloads and extractions are cached under
/// <see cref="AcquireOptions.CacheDirectory"/>, so a second run neither downloads nor extracts again.
/// </summary>
public sealed class DatasetAcquirer(AcquireOptions options)
{
    public DatasetAcquirer() : this(new AcquireOptions()) { }

    public AcquireOptions Options { get; } = options;

    public async Task<Dataset> AcquireAsync(string? source, IProgress<AcquireProgress>? progress = null, CancellationToken ct = default)
    {
        var folder = await LocateAsync(source, progress, ct);
        return await Task.Run(() => DatasetFolder.Scan(folder, progress, ct, Options.MaxPhotoBytes), ct);
    }

    /// <summary>The local folder holding the data set named by <paramref name="source"/>, downloading and extracting as needed.</summary>
    public async Task<string> LocateAsync(string? source, IProgress<AcquireProgress>? progress = null, CancellationToken ct = default)
    {
        source = string.IsNullOrWhiteSpace(source) ? AcquireOptions.DefaultUrl : source.Trim();

        if (Uri.TryCreate(source, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            var extracted = ExtractedFolder("url-" + ShortHash(url.AbsoluteUri));
            if (Directory.Exists(extracted))
                return extracted;   // works offline once it has been downloaded
            var archive = await DownloadAsync(url, progress, ct);
            try
            {
                return await Task.Run(() => ExtractOnce(archive, extracted, progress, ct), ct);
            }
            catch (DatasetException) when (File.Exists(archive))
            {
                File.Delete(archive);   // damaged past the first check: the next run downloads it again instead of failing on the cached copy
                throw;
            }
        }
        if (Directory.Exists(source))
            return Path.GetFullPath(source);
        if (File.Exists(source))
        {
            var hash = await Task.Run(() => FileHash(source), ct);
            return await Task.Run(() => ExtractOnce(source, ExtractedFolder("sha256-" + hash[..32]), progress, ct), ct);
        }
        throw new DatasetUnavailableException(source, $"'{source}' is neither an existing folder, an archive file nor an http(s) URL.");
    }

    private async Task<string> DownloadAsync(Uri url, IProgress<AcquireProgress>? progress, CancellationToken ct)
    {
        var downloads = Path.Combine(Options.CacheDirectory, "downloads");
        if (Options.Http is { } shared)
            return await Cache(downloads, shared).GetAsync(url, progress, ct);

        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = Options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,   // the archive's own bytes, never a re-encoding
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };   // stalls are caught per read instead
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Flowers/1.0");
        return await Cache(downloads, http).GetAsync(url, progress, ct);
    }

    /// <summary>Only a download the extractor opens becomes a cache entry (<see cref="ArchiveExtractor.Check"/>).</summary>
    private DownloadCache Cache(string downloads, HttpClient http) =>
        new(downloads, http, Options.StallTimeout, Options.MaxArchiveBytes, Options.DownloadTimeout, ArchiveExtractor.Check);

    /// <summary>Extracts into a temporary sibling folder and renames it into place, so a half extraction is never seen.</summary>
    private string ExtractOnce(string archive, string destination, IProgress<AcquireProgress>? progress, CancellationToken ct)
    {
        if (Directory.Exists(destination))
            return destination;
        var temp = Path.Combine(Path.GetDirectoryName(destination)!, $".tmp-{Path.GetFileName(destination)}-{Guid.NewGuid():N}");
        try
        {
            ArchiveExtractor.Extract(archive, temp, ArchiveLimits.From(Options), progress, ct);
            Directory.Move(temp, destination);
        }
        catch (IOException) when (Directory.Exists(destination))
        {
            // Another process finished the same extraction first: use its folder.
        }
        finally
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
        }
        return destination;
    }

    private string ExtractedFolder(string key) => Path.Combine(Options.CacheDirectory, "extracted", key);

    private static string ShortHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
