using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Split;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

/// <summary>What ingest left out, kept beside the manifest for the metrics of the run.</summary>
public sealed record IngestReport(string Dataset, string Fingerprint, IReadOnlyList<SkippedPhoto> Skipped);

/// <summary>
/// Ingest: puts the data set into datasets/{dataset}/{class}/{file} (acquiring it from a URL, or taking the
/// photos already uploaded there) and writes the split manifest. Idempotent: a photo whose blob already
/// carries the same content hash (blob metadata) is not uploaded again.
/// </summary>
public sealed class IngestActivity(FlowersStorage storage, TrainingSettings settings, ILogger<IngestActivity> log)
{
    public const string Name = "Ingest";

    public async Task<IngestResult> RunAsync(IngestInput input, CancellationToken ct = default)
    {
        await storage.EnsureContainersAsync(ct);
        var existing = await ListPhotosAsync(input.Dataset, ct);
        var (dataset, uploaded) = input.SourceUrl is null
            ? (await FromBlobsAsync(input.Dataset, existing, ct), 0)
            : await FromUrlAsync(input.Dataset, input.SourceUrl, existing, ct);
        if (dataset.Photos.Count == 0)
            throw new UnusableDatasetException($"data set '{input.Dataset}' has no photos (expected {StorageNames.Datasets}/{input.Dataset}/{{class}}/{{file}})");

        var manifest = DatasetSplitter.Split(dataset, new SplitOptions(input.TestFraction, input.Seed));
        var manifestBlob = StorageNames.SplitManifestBlob(input.Dataset);
        await storage.Datasets.GetBlobClient(manifestBlob).UploadAsync(BinaryData.FromString(manifest.ToJson()), overwrite: true, ct);
        await storage.Datasets.GetBlobClient(StorageNames.IngestReportBlob(input.Dataset))
            .WriteAsync(new IngestReport(input.Dataset, dataset.Fingerprint, [.. dataset.Skipped, .. manifest.Skipped]), ct: ct);
        log.LogInformation("Ingested {Dataset}: {Photos} photos ({Uploaded} uploaded), {Skipped} skipped",
            input.Dataset, dataset.Photos.Count, uploaded, dataset.Skipped.Count + manifest.Skipped.Count);

        return new IngestResult(input.Dataset, manifestBlob, dataset.Fingerprint, manifest.Classes.Count, manifest.Entries.Count,
            manifest.Entries.Count(e => e.Side == SplitSide.Train), manifest.Entries.Count(e => e.Side == SplitSide.Test),
            dataset.Skipped.Count + manifest.Skipped.Count, uploaded, FeatureShardPlan.ShardCountFor(manifest.Entries.Count, input.ShardSize));
    }

    private async Task<(Dataset Dataset, int Uploaded)> FromUrlAsync(string name, string url, Dictionary<string, BlobItem> existing, CancellationToken ct)
    {
        // Checked again here, not only at the HTTP front door: the guarded client also refuses private addresses
        // on every connection, redirects included. A path on the host's disk only where the host allows it.
        var local = Path.IsPathFullyQualified(url);
        if (local && !settings.AllowLocalSources)
            throw new InvalidOperationException($"source '{url}' is a local path, which this host does not allow");
        if (!local && await SourceAddressGuard.CheckAsync(new Uri(url), settings.AllowPrivateSources, ct) is { } problem)
            throw new InvalidOperationException($"source {problem}");
        using var http = SourceAddressGuard.CreateClient(settings.AllowPrivateSources);
        var acquirer = new DatasetAcquirer(new AcquireOptions { CacheDirectory = settings.CacheDirectory, Http = http });
        var dataset = await acquirer.AcquireAsync(url, progress: null, ct);

        var uploaded = 0;
        await Parallel.ForEachAsync(dataset.Photos, new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (photo, token) =>
            {
                var blobName = StorageNames.DatasetPhotoBlob(name, photo.Class, photo.Name);
                if (existing.TryGetValue(blobName, out var blob) && HashOf(blob) == photo.ContentHash) return;
                await storage.Datasets.GetBlobClient(blobName).UploadAsync(photo.FilePath, new BlobUploadOptions
                {
                    Metadata = new Dictionary<string, string> { [StorageNames.ContentHashMetadata] = photo.ContentHash },
                }, token);
                Interlocked.Increment(ref uploaded);
            });
        return (dataset, uploaded);
    }

    /// <summary>The photos already in datasets/{name}/{class}/{file}; hashes the ones that carry no hash yet.</summary>
    private async Task<Dataset> FromBlobsAsync(string name, Dictionary<string, BlobItem> existing, CancellationToken ct)
    {
        var photos = new List<DatasetPhoto>();
        await Parallel.ForEachAsync(existing.Values, new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (blob, token) =>
            {
                var hash = HashOf(blob) ?? await HashAndTagAsync(blob, token);
                var path = blob.Name[(name.Length + 1)..];
                var slash = path.IndexOf('/');
                var photo = new DatasetPhoto(path[..slash], path[(slash + 1)..], blob.Name, hash, blob.Properties.ContentLength ?? 0);
                lock (photos) photos.Add(photo);
            });
        var sorted = photos.OrderBy(p => p.Class, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        var classes = sorted.Select(p => p.Class).Distinct().ToList();
        return new Dataset($"{StorageNames.Datasets}/{name}", classes, sorted, [], 0);
    }

    private async Task<string> HashAndTagAsync(BlobItem item, CancellationToken ct)
    {
        var blob = storage.Datasets.GetBlobClient(item.Name);
        var content = await blob.DownloadStreamingAsync(cancellationToken: ct);
        string hash;
        await using (var stream = content.Value.Content)
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        var metadata = new Dictionary<string, string>(item.Metadata ?? new Dictionary<string, string>())
        {
            [StorageNames.ContentHashMetadata] = hash,
        };
        try
        {
            await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = content.Value.Details.ETag }, ct);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            // Replaced while we read it: the hash is of the bytes we read; the next ingest hashes the new ones.
        }
        return hash;
    }

    /// <summary>datasets/{name}/{class}/{file...} blobs, by blob name (files directly under {name}/ are ours: manifest, report).</summary>
    private async Task<Dictionary<string, BlobItem>> ListPhotosAsync(string name, CancellationToken ct)
    {
        var photos = new Dictionary<string, BlobItem>(StringComparer.Ordinal);
        await foreach (var blob in storage.Datasets.GetBlobsAsync(new GetBlobsOptions { Prefix = name + "/", Traits = BlobTraits.Metadata }, ct))
            if (blob.Name.AsSpan(name.Length + 1).Contains('/')) photos[blob.Name] = blob;
        return photos;
    }

    private static string? HashOf(BlobItem blob) =>
        blob.Metadata is not null && blob.Metadata.TryGetValue(StorageNames.ContentHashMetadata, out var hash) ? hash : null;
}
