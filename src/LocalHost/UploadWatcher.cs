using Azure.Storage.Blobs.Models;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The local stand-in for the blob trigger: looks at the uploads container a few times a second and hands
/// each new or changed upload to the same <see cref="UploadLabeller"/> the LabelUpload function calls, in batches.
/// Every host on one storage account looks at every upload; the labeller's claims let one of them label each.
/// Uploads that arrived while no host ran are found on the first look, since the state it keeps is only
/// what it has already handed over in this process. An upload that fails (e.g. storage will not serve its
/// name) is tried again after a pause that doubles with each failure, up to <see cref="MaxRetryDelay"/>.
/// </summary>
public sealed class UploadWatcher(FlowersStorage storage, UploadLabeller labeller, LocalHostOptions options, ILogger<UploadWatcher> log)
    : BackgroundService
{
    private readonly Dictionary<string, Azure.ETag> _handled = new();
    private readonly Dictionary<string, Retry> _retries = new();

    /// <summary>The longest pause before an upload that keeps failing is tried again.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private sealed record Retry(Azure.ETag ETag, int Failures, DateTimeOffset NotBefore);

    private readonly TaskCompletionSource _firstLook = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Done when the first look at uploads has handed over (labelled) the uploads it found, or failed.</summary>
    public Task FirstLook => _firstLook.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await storage.EnsureContainersAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.UploadPollInterval);
        do
        {
            try { await LabelNewUploadsAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("Looking at uploads failed ({Error}); trying again", e.Message);
            }
            finally { _firstLook.TrySetResult(); }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task LabelNewUploadsAsync(CancellationToken ct)
    {
        var fresh = new List<BlobItem>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, ct))
        {
            if (blob.Metadata.ContainsKey(StorageNames.LabelModelMetadata)) continue;   // labelled
            if (_handled.TryGetValue(blob.Name, out var etag) && etag == blob.Properties.ETag) continue;
            // A failed upload waits out its pause, unless it was replaced meanwhile (a new version is tried at once).
            if (_retries.TryGetValue(blob.Name, out var retry) && retry.ETag == blob.Properties.ETag && DateTimeOffset.UtcNow < retry.NotBefore) continue;
            fresh.Add(blob);
        }
        if (fresh.Count == 0) return;
        // One batch: the model looked up once, one featurizer pass a batch; an upload that storage will not serve (e.g. a
        // name it refuses) fails alone, and one another host holds is looked at again on the next poll.
        // In an order of this host's own, so hosts on one account work through a burst from different places.
        var order = fresh.Select(b => b.Name).ToArray();
        Random.Shared.Shuffle(order);
        var outcomes = (options.LabelOneByOne ? await LabelOneByOneAsync(order, ct) : await labeller.LabelBatchAsync(order, ct)).ToDictionary(o => o.Upload);
        foreach (var blob in fresh)
        {
            var outcome = outcomes[blob.Name];
            if (outcome.ClaimedElsewhere) continue; // another host labels it; looked at again on the next poll
            if (outcome.Failure is not null)
            {
                var (failures, delay) = NextRetry(blob);
                log.LogWarning("Labelling upload {Name} failed ({Error}); trying again in {RetrySeconds:0.##} s", blob.Name, outcome.Failure, delay.TotalSeconds);
                _retries[blob.Name] = new Retry(blob.Properties.ETag!.Value, failures, DateTimeOffset.UtcNow + delay);
            }
            else
            {
                _retries.Remove(blob.Name);
                _handled[blob.Name] = blob.Properties.ETag!.Value;
            }
        }
    }

    private async Task<IReadOnlyList<UploadOutcome>> LabelOneByOneAsync(IReadOnlyList<string> names, CancellationToken ct)
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<UploadOutcome>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (name, token) =>
        {
            try { outcomes.Add(new UploadOutcome(name, await labeller.LabelAsync(name, token))); }
            catch (Exception e) when (e is not OperationCanceledException) { outcomes.Add(new UploadOutcome(name, null, e.Message)); }
        });
        return outcomes.ToList();
    }

    /// <summary>The failure count and pause after one more failure of this version of the upload: the poll interval, doubled per failure.</summary>
    private (int Failures, TimeSpan Delay) NextRetry(BlobItem blob)
    {
        var failures = _retries.TryGetValue(blob.Name, out var retry) && retry.ETag == blob.Properties.ETag ? retry.Failures + 1 : 1;
        var delay = options.UploadPollInterval * Math.Pow(2, Math.Min(failures - 1, 20));
        return (failures, delay < MaxRetryDelay ? delay : MaxRetryDelay);
    }
}
