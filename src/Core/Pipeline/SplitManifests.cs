using Flowers.Split;
using Flowers.Storage;

namespace Flowers.Pipeline;

/// <summary>
/// Reads split manifests for the activities. Every featurize shard of a run and then its train step read the same
/// manifest (a megabyte of JSON on flowers128), and a re-split reads the last one: it is downloaded and parsed once
/// a process, then only checked for a newer version (a re-split writes the same blob).
/// </summary>
public sealed class SplitManifests(FlowersStorage storage)
{
    /// <summary>The manifest this process read last, with the version it read.</summary>
    private sealed record Read(string Blob, Azure.ETag ETag, SplitManifest Manifest);
    private volatile Read? _last;

    /// <exception cref="Azure.RequestFailedException">Status 404: there is no such manifest.</exception>
    public async Task<SplitManifest> ReadAsync(string blob, CancellationToken ct)
    {
        var client = storage.Datasets.GetBlobClient(blob);
        if (_last is { } known && known.Blob == blob && (await client.GetPropertiesAsync(cancellationToken: ct)).Value.ETag == known.ETag)
            return known.Manifest;
        var content = (await client.DownloadContentAsync(ct)).Value;
        var manifest = SplitManifest.FromJson(content.Content.ToString());
        _last = new Read(blob, content.Details.ETag, manifest);
        return manifest;
    }
}
