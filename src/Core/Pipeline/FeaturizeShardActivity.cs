using System.Security.Cryptography;
using System.Text;
using Azure;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

/// <summary>A photo a shard could not featurize, by content hash (the shard may be shared by data sets that name it differently).</summary>
public sealed record SkippedContent(string ContentHash, string Reason);

/// <summary>features/{featurizerId}/{shardKey}.json: written after the shard's .bin, so it marks the shard complete.</summary>
public sealed record FeatureShardSummary(string FeaturizerId, int Photos, int Featurized, IReadOnlyList<SkippedContent> Skipped);

/// <summary>
/// Featurizes one shard of the split manifest: reads its photos from Blob Storage, runs the process's
/// PhotoFeaturizer and writes one FeatureShard blob. The blob is keyed by featurizer id and the content
/// hashes of the shard's photos, so a re-run (same photos, same featurizer) finds it and does no work.
/// A photo that cannot be decoded is listed as skipped with its reason: not an error, not retried.
/// </summary>
public sealed class FeaturizeShardActivity(FlowersStorage storage, FeaturizerCatalog featurizers, TrainingSettings settings,
    ILogger<FeaturizeShardActivity> log)
{
    public const string Name = "FeaturizeShard";

    public async Task<FeaturizeShardResult> RunAsync(FeaturizeShardInput input, CancellationToken ct = default)
    {
        var manifest = SplitManifest.FromJson((await storage.Datasets.GetBlobClient(input.ManifestBlob).DownloadContentAsync(ct)).Value.Content.ToString());
        var entries = FeatureShardPlan.Entries(manifest, input.ShardIndex, input.ShardCount);
        var featurizer = featurizers.Default;
        var key = ShardKey(featurizer.Id, entries.Select(e => e.ContentHash));
        var shardBlob = StorageNames.FeatureShardBlob(featurizer.Id, key);
        var summaryBlob = storage.Features.GetBlobClient(StorageNames.FeatureShardSummaryBlob(featurizer.Id, key));

        if (await summaryBlob.ReadOrDefaultAsync<FeatureShardSummary>(ct) is { } done)
            return new FeaturizeShardResult(shardBlob, entries.Count, 0, done.Skipped.Count);

        // One entry per distinct content: the same photo twice in a data set is featurized once.
        var distinct = entries.DistinctBy(e => e.ContentHash).ToList();
        var photos = new PhotoBytes?[distinct.Count];
        var skipped = new List<SkippedContent>();
        await Parallel.ForEachAsync(Enumerable.Range(0, distinct.Count),
            new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var blob = storage.Datasets.GetBlobClient(StorageNames.DatasetPhotoBlob(input.Dataset, distinct[i].Class, distinct[i].Name));
                try
                {
                    photos[i] = new PhotoBytes(distinct[i].ContentHash, (await blob.DownloadContentAsync(token)).Value.Content.ToMemory());
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    lock (skipped) skipped.Add(new SkippedContent(distinct[i].ContentHash, $"missing from {StorageNames.Datasets}/{blob.Name}"));
                }
            });

        var items = new Dictionary<string, PhotoFeatures>(StringComparer.Ordinal);
        foreach (var outcome in featurizer.FeaturizeAll(photos.OfType<PhotoBytes>(), ct))
        {
            if (outcome.Features is not null) items[outcome.Key] = outcome.Features;
            else skipped.Add(new SkippedContent(outcome.Key, outcome.Error ?? "could not be featurized"));
        }

        using (var bytes = new MemoryStream())
        {
            new FeatureShard(featurizer.Id, featurizer.Dimension, featurizer.ViewCount, items).WriteTo(bytes);
            bytes.Position = 0;
            await storage.Features.GetBlobClient(shardBlob).UploadAsync(bytes, overwrite: true, ct);
        }
        await summaryBlob.WriteAsync(new FeatureShardSummary(featurizer.Id, distinct.Count, items.Count, skipped), ct: ct);
        log.LogInformation("Shard {Shard} of {Dataset}: {Featurized} featurized, {Skipped} skipped", input.ShardIndex, input.Dataset, items.Count, skipped.Count);
        return new FeaturizeShardResult(shardBlob, entries.Count, items.Count, skipped.Count);
    }

    /// <summary>SHA-256 over the featurizer id and the shard's sorted content hashes (first 32 hex digits).</summary>
    public static string ShardKey(string featurizerId, IEnumerable<string> contentHashes)
    {
        var text = new StringBuilder(featurizerId).Append('\n');
        foreach (var hash in contentHashes.Distinct().Order(StringComparer.Ordinal)) text.Append(hash).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }
}
