using System.Threading.Channels;
using Flowers.Diagnostics;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

// What the orchestrator passes to this activity and gets back: names and counts, never photos or features.

/// <param name="InputSize">The run's network input size (<see cref="InputSizeChoice"/>); 0 = the host's default.</param>
public sealed record FeaturizeShardInput(string Dataset, string ManifestBlob, int ShardIndex, int ShardCount, int InputSize = 0);

/// <param name="InputSize">As in <see cref="FeaturizeShardInput"/>.</param>
public sealed record FeatureShardsInput(string Dataset, string ManifestBlob, int ShardCount, int InputSize = 0);

/// <param name="ShardBlob">The FeatureShard blob in the features container.</param>
/// <param name="Featurized">Photos featurized by this call: 0 when the shard was already there.</param>
public sealed record FeaturizeShardResult(string ShardBlob, int Photos, int Featurized, int Skipped);

/// <summary>A photo a shard could not featurize, by content hash (the shard may be shared by data sets that name it differently).</summary>
public sealed record SkippedContent(string ContentHash, string Reason);

/// <summary>features/{featurizerId}/{shardKey}.json: written after the shard's .bin, so it marks the shard complete.</summary>
public sealed record FeatureShardSummary(string FeaturizerId, int Photos, int Featurized, IReadOnlyList<SkippedContent> Skipped);

/// <summary>
/// Featurizes one shard of the split manifest: reads its photos from Blob Storage (its pack, or the photos
/// uploaded one by one), runs the process's
/// PhotoFeaturizer and writes one FeatureShard blob. The blob is keyed by featurizer id and the content
/// hashes of the shard's photos, so a re-run (same photos, same featurizer) finds it and does no work.
/// A photo that cannot be decoded is listed as skipped with its reason: not an error, not retried.
/// </summary>
public sealed class FeaturizeShardActivity(FlowersStorage storage, DatasetPhotos photos, FeaturizerCatalog featurizers,
    SplitManifests manifests, RecentFeatureShards recent, TrainingSettings settings, ILogger<FeaturizeShardActivity> log)
{
    public const string Name = "FeaturizeShard";
    public const string FindDoneName = "FindFeaturizedShards";

    private readonly SemaphoreSlim _featurizing = new(1, 1); // one shard's FeaturizeAll at a time (see RunAsync)

    /// <summary>
    /// The shards of a data set that are already featurized (null for the others), found in one call: a re-run
    /// on unchanged photos then schedules no featurize activity at all, where one activity a shard would cost
    /// a queue round trip each.
    /// </summary>
    public async Task<FeaturizeShardResult?[]> FindDoneAsync(FeatureShardsInput input, CancellationToken ct = default)
    {
        var manifest = await manifests.ReadAsync(input.ManifestBlob, ct);
        var options = featurizers.OptionsFor(input.InputSize);
        var done = new FeaturizeShardResult?[input.ShardCount];
        await Parallel.ForEachAsync(Enumerable.Range(0, input.ShardCount),
            new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct },
            async (shard, token) => done[shard] = await FindDoneAsync(Locate(manifest, shard, input.ShardCount, options), token));
        return done;
    }

    // One span and duration a shard (FlowersTelemetry); the work is FeaturizeAsync.
    public Task<FeaturizeShardResult> RunAsync(FeaturizeShardInput input, CancellationToken ct = default) =>
        FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Featurize, input.Dataset, () => FeaturizeAsync(input, ct), shard: input.ShardIndex);

    private async Task<FeaturizeShardResult> FeaturizeAsync(FeaturizeShardInput input, CancellationToken ct)
    {
        var options = featurizers.OptionsFor(input.InputSize);
        var shard = Locate(await manifests.ReadAsync(input.ManifestBlob, ct), input.ShardIndex, input.ShardCount, options);
        if (await FindDoneAsync(shard, ct) is { } done) return done;
        var (entries, shardBlob, summaryBlob) = (shard.Entries, shard.ShardBlob, shard.SummaryBlob);
        var featurizer = featurizers.For(options); // built only when there is work (its ONNX sessions take a second or two)

        // One entry per distinct content: the same photo twice in a data set is featurized once. Photos are
        // featurized as they arrive, so the network is busy while the rest of the shard downloads.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var distinct = entries.DistinctBy(e => e.ContentHash).ToList();
        var skipped = new List<SkippedContent>();
        var arrived = Channel.CreateBounded<PhotoBytes>(32);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct); // stops the downloads if featurizing fails
        var downloading = Task.Run(async () =>
        {
            try
            {
                await photos.ReadAllAsync(input.Dataset, distinct,
                    (entry, bytes, token) => arrived.Writer.WriteAsync(new PhotoBytes(entry.ContentHash, bytes), token),
                    (entry, reason) => { lock (skipped) skipped.Add(new SkippedContent(entry.ContentHash, reason)); }, stop.Token);
            }
            finally { arrived.Writer.TryComplete(); }
        }, CancellationToken.None);

        // FeaturizeAll blocks while it waits for photos and results: it runs on a thread of its own, not one of the
        // pool's, which the storage client, the durable worker and the other shards need (2 cores start a pool of 2).
        // One shard featurizes at a time in a process: the featurizer's sessions already use every core, and two
        // shards' pipelines would only contend for them (more threads, more wake-ups: ~4% more CPU a photo measured).
        // The next shard's photos download meanwhile.
        List<FeaturizeOutcome> outcomes;
        try
        {
            await _featurizing.WaitAsync(ct);
            try
            {
                outcomes = await Task.Factory.StartNew(() => featurizer.FeaturizeAll(Arrivals(arrived.Reader, ct), ct).ToList(),
                    ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            finally { _featurizing.Release(); }
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        var items = new Dictionary<string, PhotoFeatures>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            if (outcome.Features is not null) items[outcome.Key] = outcome.Features;
            else lock (skipped) skipped.Add(new SkippedContent(outcome.Key, outcome.Error ?? "could not be featurized"));
        }
        await downloading; // a storage fault other than a missing photo fails the shard (and the orchestrator retries it)
        var featurizeSeconds = clock.Elapsed.TotalSeconds;

        var written = new FeatureShard(featurizer.Id, featurizer.Dimension, featurizer.ViewCount, items);
        using (var bytes = new MemoryStream())
        {
            written.WriteTo(bytes);
            bytes.Position = 0;
            await storage.Features.GetBlobClient(shardBlob).UploadAsync(bytes, overwrite: true, ct);
        }
        var summary = new FeatureShardSummary(featurizer.Id, distinct.Count, items.Count, [.. skipped.OrderBy(x => x.ContentHash, StringComparer.Ordinal)]);
        await summaryBlob.WriteAsync(summary, ct: ct);
        recent.Add(shardBlob, written, summary);
        log.LogInformation("Shard {Shard} of {Dataset}: {Featurized} featurized, {Skipped} skipped; read + featurized in {Seconds:0.00} s, written in {Write:0.00} s",
            input.ShardIndex, input.Dataset, items.Count, skipped.Count, featurizeSeconds, clock.Elapsed.TotalSeconds - featurizeSeconds);
        return new FeaturizeShardResult(shardBlob, entries.Count, items.Count, skipped.Count);
    }

    /// <summary>The photos as they arrive, for FeaturizeAll's threads (which may block on it).</summary>
    private static IEnumerable<PhotoBytes> Arrivals(ChannelReader<PhotoBytes> reader, CancellationToken ct)
    {
        while (reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
            while (reader.TryRead(out var photo)) yield return photo;
    }

    private sealed record ShardLocation(IReadOnlyList<SplitEntry> Entries, string ShardBlob, Azure.Storage.Blobs.BlobClient SummaryBlob);

    /// <summary>A shard's photos and, by the featurizer id and their content hashes, where its features go.</summary>
    private ShardLocation Locate(SplitManifest manifest, int shardIndex, int shardCount, FeaturizerOptions options)
    {
        var entries = FeatureShardPlan.Entries(manifest, shardIndex, shardCount);
        var featurizerId = options.Id;
        var key = ShardKey(featurizerId, entries.Select(e => e.ContentHash));
        return new ShardLocation(entries, StorageNames.FeatureShardBlob(featurizerId, key),
            storage.Features.GetBlobClient(StorageNames.FeatureShardSummaryBlob(featurizerId, key)));
    }

    private static async Task<FeaturizeShardResult?> FindDoneAsync(ShardLocation shard, CancellationToken ct) =>
        await shard.SummaryBlob.ReadOrDefaultAsync<FeatureShardSummary>(ct) is { } done
            ? new FeaturizeShardResult(shard.ShardBlob, shard.Entries.Count, 0, done.Skipped.Count)
            : null;

    /// <summary>The shard's content key, scoped by the featurizer id (features of the same photos differ by featurizer).</summary>
    public static string ShardKey(string featurizerId, IEnumerable<string> contentHashes) => ContentKey.Of(contentHashes, featurizerId);
}
