using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Flowers.Acquire;
using Flowers.Diagnostics;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

// What the orchestrator passes to this activity and gets back: names and counts, never photos or features.

/// <param name="InputSize">The network's input size the run was told; 0 = choose it from the training photos.</param>
public sealed record IngestInput(string Dataset, string? SourceUrl, double TestFraction, int Seed, int ShardSize, int InputSize = 0);

/// <param name="ManifestBlob">The split manifest in the datasets container.</param>
/// <param name="Uploaded">Photos written to Blob Storage by this run (0 on a re-run of the same source).</param>
/// <param name="InputSize">The network's input size for this run, and why.</param>
public sealed record IngestResult(
    string Dataset, string ManifestBlob, string DatasetFingerprint, int Classes, int Photos,
    int TrainCount, int TestCount, int Skipped, int Uploaded, int ShardCount, InputSizeChoice InputSize);

/// <summary>What ingest left out, kept beside the manifest for the metrics of the run.</summary>
public sealed record IngestReport(string Dataset, string Fingerprint, IReadOnlyList<SkippedPhoto> Skipped);

/// <summary>
/// Ingest: puts the data set into Blob Storage and writes its split manifest. From a source (URL or allowed
/// local path) the photos go into packs, one blob a featurize shard (<see cref="PhotoPack"/>); photos users
/// uploaded to datasets/{dataset}/{class}/{file} stay where they are. Idempotent: a pack already there (its
/// name is a hash of its photos) is not uploaded again, nor is a photo blob re-hashed once tagged.
/// A run without a source on a data set ingested from one re-splits the photos of its packs.
/// </summary>
public sealed class IngestActivity(FlowersStorage storage, SplitManifests manifests, DatasetPhotos photos, TrainingSettings settings, ILogger<IngestActivity> log)
{
    public const string Name = "Ingest";

    /// <summary>What one way of ingesting found: the split, with each photo's pack when packed.</summary>
    private sealed record Ingested(SplitManifest Manifest, int Photos, string Fingerprint, IReadOnlyList<SkippedPhoto> Skipped, int Uploaded);

    // The stage's span and duration (FlowersTelemetry); the work is IngestAsync.
    public Task<IngestResult> RunAsync(IngestInput input, CancellationToken ct = default) =>
        FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Ingest, input.Dataset, () => IngestAsync(input, ct));

    private async Task<IngestResult> IngestAsync(IngestInput input, CancellationToken ct)
    {
        await storage.EnsureContainersAsync(ct);
        var options = new SplitOptions(input.TestFraction, input.Seed);
        var packs = await ListPacksAsync(input.Dataset, ct);
        var ingested = input.SourceUrl is null
            ? await FromBlobsAsync(input.Dataset, options, ct)
            : await FromSourceAsync(input.Dataset, input.SourceUrl, options, input.ShardSize, packs, ct);
        var manifest = ingested.Manifest;

        var manifestBlob = StorageNames.SplitManifestBlob(input.Dataset);
        await storage.Datasets.GetBlobClient(manifestBlob).UploadAsync(BinaryData.FromString(manifest.ToJson()), overwrite: true, ct);
        await storage.Datasets.GetBlobClient(StorageNames.IngestReportBlob(input.Dataset))
            .WriteAsync(new IngestReport(input.Dataset, ingested.Fingerprint, ingested.Skipped), ct: ct);
        // Packs of an earlier version of the data set: no manifest names them any more (one run a data set at a time).
        var used = manifest.Entries.Select(e => e.Pack).OfType<string>().Select(key => StorageNames.PhotoPackBlob(input.Dataset, key)).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in packs.Where(blob => !used.Contains(blob)))
            await storage.Datasets.DeleteBlobIfExistsAsync(stale, cancellationToken: ct);
        var inputSize = input.InputSize > 0 ? InputSizeChoice.Told(input.InputSize) : await ChooseInputSizeAsync(input.Dataset, manifest, ct);
        log.LogInformation("Ingested {Dataset}: {Photos} photos ({Uploaded} uploaded), {Skipped} skipped; input size {InputSize}",
            input.Dataset, ingested.Photos, ingested.Uploaded, ingested.Skipped.Count, inputSize);

        return new IngestResult(input.Dataset, manifestBlob, ingested.Fingerprint, manifest.Classes.Count, ingested.Photos,
            manifest.Train.Count(), manifest.Test.Count(), ingested.Skipped.Count, ingested.Uploaded,
            FeatureShardPlan.ShardCountFor(manifest.Entries.Count, input.ShardSize), inputSize);
    }

    /// <summary>The network's input size from the size of a sample of the training photos (never the test photos).</summary>
    private async Task<InputSizeChoice> ChooseInputSizeAsync(string dataset, SplitManifest manifest, CancellationToken ct)
    {
        var read = await photos.ReadSomeAsync(dataset, InputSizeChoice.PhotosToRead(manifest), ct);
        return InputSizeChoice.From(read.Values.OfType<byte[]>());
    }

    private async Task<Ingested> FromSourceAsync(string name, string url, SplitOptions options, int shardSize, HashSet<string> packs, CancellationToken ct)
    {
        // Checked again here, not only at the HTTP front door: the guarded client also refuses private addresses
        // on every connection, redirects included. A path on the host's disk only where the host allows it.
        var local = Path.IsPathFullyQualified(url);
        if (local && LocalSources.Problem(url, settings) is { } refused)
            throw new RefusedSourceException($"source {refused}");
        if (!local && await SourceAddressGuard.CheckAsync(new Uri(url), settings.AllowPrivateSources, ct) is { } problem)
            throw new RefusedSourceException($"source {problem}");
        using var http = SourceAddressGuard.CreateClient(settings.AllowPrivateSources);
        var acquirer = new DatasetAcquirer(new AcquireOptions { CacheDirectory = settings.CacheDirectory, Http = http, MaxPhotoBytes = settings.MaxPhotoBytes });
        // Its own span inside ingest: the download and unpacking are most of an ingest from a source.
        var dataset = await FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Acquire, name, () => acquirer.AcquireAsync(url, progress: null, ct));
        if (dataset.Photos.Count == 0)
            throw new UnusableDatasetException($"source '{url}' has no photos (expected a folder a class)");
        var manifest = DatasetSplitter.Split(dataset, options);

        // One pack a featurize shard, cut as the shards are (by content hash), so each shard's activity reads one blob.
        var shardCount = FeatureShardPlan.ShardCountFor(manifest.Entries.Count, shardSize);
        var files = dataset.Photos.DistinctBy(p => p.ContentHash).ToDictionary(p => p.ContentHash, StringComparer.Ordinal);
        var plan = Enumerable.Range(0, shardCount)
            .Select(shard => FeatureShardPlan.Entries(manifest, shard, shardCount).Select(e => e.ContentHash).Distinct(StringComparer.Ordinal).ToList())
            .Where(hashes => hashes.Count > 0)
            .Select(hashes => (Key: PhotoPack.KeyOf(hashes), Hashes: hashes)).ToList();
        var uploaded = 0;
        await Parallel.ForEachAsync(plan.Where(pack => !packs.Contains(StorageNames.PhotoPackBlob(name, pack.Key))),
            new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (pack, token) =>
            {
                // Streamed: the block blob is committed only when the pack is whole, so a failed ingest leaves none.
                await using (var blob = await storage.Datasets.GetBlockBlobClient(StorageNames.PhotoPackBlob(name, pack.Key))
                    .OpenWriteAsync(overwrite: true, cancellationToken: token))
                    await PhotoPack.WriteAsync(blob, pack.Hashes.Select(hash => files[hash]).Select(photo =>
                        (photo.ContentHash, Path.GetExtension(photo.Name), (Stream)File.OpenRead(photo.FilePath))), token);
                Interlocked.Add(ref uploaded, pack.Hashes.Count);
            });
        var packOf = plan.SelectMany(pack => pack.Hashes.Select(hash => (hash, pack.Key))).ToDictionary(p => p.hash, p => p.Key, StringComparer.Ordinal);
        manifest = manifest with { Entries = [.. manifest.Entries.Select(e => e with { Pack = packOf[e.ContentHash] })] };
        return new Ingested(manifest, dataset.Photos.Count, dataset.Fingerprint, [.. dataset.Skipped, .. manifest.Skipped], uploaded);
    }

    /// <summary>The photos uploaded to datasets/{name}/{class}/{file} (hashing the ones that carry no hash yet); when
    /// there are none, the photos of the packs an ingest from a source left.</summary>
    private async Task<Ingested> FromBlobsAsync(string name, SplitOptions options, CancellationToken ct)
    {
        var existing = await ListPhotosAsync(name, ct);
        if (existing.Count == 0 && await FromPacksAsync(name, options, ct) is { } packed) return packed;
        var photos = new List<DatasetPhoto>();
        // Sized from the listing, before anything is downloaded: a huge blob is never hashed nor featurized.
        var tooLarge = existing.Values
            .Select(blob => (blob, reason: AcquireOptions.TooLargeReason(blob.Properties.ContentLength ?? 0, settings.MaxPhotoBytes)))
            .Where(b => b.reason is not null)
            .Select(b => new SkippedPhoto(b.blob.Name[(name.Length + 1)..], b.reason!)).ToList();
        var large = tooLarge.Select(s => $"{name}/{s.Image}").ToHashSet(StringComparer.Ordinal);
        await Parallel.ForEachAsync(existing.Values.Where(blob => !large.Contains(blob.Name)), new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (blob, token) =>
            {
                var hash = HashOf(blob) ?? await HashAndTagAsync(blob, token);
                var path = blob.Name[(name.Length + 1)..];
                var slash = path.IndexOf('/');
                var photo = new DatasetPhoto(path[..slash], path[(slash + 1)..], blob.Name, hash, blob.Properties.ContentLength ?? 0);
                lock (photos) photos.Add(photo);
            });
        if (photos.Count == 0)
            throw new UnusableDatasetException($"data set '{name}' has no photos (expected {StorageNames.Datasets}/{name}/{{class}}/{{file}})"
                + (tooLarge.Count > 0 ? $"; {tooLarge.Count} left out as {tooLarge[0].Reason}" : ""));
        var sorted = photos.OrderBy(p => p.Class, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        var dataset = new Dataset($"{StorageNames.Datasets}/{name}", [.. sorted.Select(p => p.Class).Distinct()], sorted, [], 0);
        var manifest = DatasetSplitter.Split(dataset, options);
        return new Ingested(manifest, dataset.Photos.Count, dataset.Fingerprint, [.. tooLarge, .. manifest.Skipped], 0);
    }

    /// <summary>The last manifest's packed photos split again (another seed or test fraction, say), with what that
    /// ingest left out; null when the data set was never packed.</summary>
    private async Task<Ingested?> FromPacksAsync(string name, SplitOptions options, CancellationToken ct)
    {
        SplitManifest last;
        try { last = await manifests.ReadAsync(StorageNames.SplitManifestBlob(name), ct); }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
        if (last.Entries.Count == 0 || last.Entries.Any(e => e.Pack is null)) return null;
        var report = await storage.Datasets.GetBlobClient(StorageNames.IngestReportBlob(name)).ReadOrDefaultAsync<IngestReport>(ct);
        var packOf = last.Entries.ToDictionary(e => e.Image, e => e.Pack!, StringComparer.Ordinal);
        var manifest = DatasetSplitter.Split(last.Classes, last.Entries.Select(e => (e.Class, e.Name, e.ContentHash)), options);
        manifest = manifest with { Entries = [.. manifest.Entries.Select(e => e with { Pack = packOf[e.Image] })] };
        return new Ingested(manifest, manifest.Entries.Count,
            report?.Fingerprint ?? Dataset.FingerprintOf(manifest.Entries.Select(e => (e.Class, e.Name, e.ContentHash))),
            report?.Skipped ?? [], 0);
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

    /// <summary>datasets/{name}/pack-*.zip, by blob name.</summary>
    private async Task<HashSet<string>> ListPacksAsync(string name, CancellationToken ct)
    {
        var packs = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in storage.Datasets.GetBlobsAsync(new GetBlobsOptions { Prefix = $"{name}/{StorageNames.PhotoPackPrefix}" }, ct))
            packs.Add(blob.Name);
        return packs;
    }

    private static string? HashOf(BlobItem blob) =>
        blob.Metadata is not null && blob.Metadata.TryGetValue(StorageNames.ContentHashMetadata, out var hash) ? hash : null;
}
