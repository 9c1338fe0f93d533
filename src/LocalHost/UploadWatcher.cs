using Azure.Storage.Blobs.Models;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The local stand-in for the blob trigger: looks at the uploads container a few times a second and hands
/// each new or changed upload to the same <see cref="UploadLabeller"/> the LabelUpload function calls, many at a time.
/// It looks again while the last uploads it handed over are still being labelled, so a burst that arrives over
/// seconds keeps the featurizer busy instead of waiting for each listing's slowest upload.
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

    /// <summary>Uploads handed to the labeller whose outcome is not in yet, by name.</summary>
    private readonly HashSet<string> _labelling = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private TaskCompletionSource? _room;

    /// <summary>Uploads are looked for again once fewer than this are being labelled: soon enough that the next listing
    /// is in before the labeller runs dry, not so often that a backlog is listed on every poll.</summary>
    private int RefillBelow => 2 * labeller.MaxBatch;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await storage.EnsureContainersAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.UploadPollInterval);
        var handedOver = new List<Task>();
        try
        {
            do
            {
                await RoomAsync().WaitAsync(stoppingToken);
                try
                {
                    var labelling = await HandOverNewUploadsAsync(stoppingToken);
                    if (!_firstLook.Task.IsCompleted) await labelling; else handedOver.Add(labelling);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning("Looking at uploads failed ({Error}); trying again", e.Message);
                }
                finally { _firstLook.TrySetResult(); }
                handedOver.RemoveAll(t => t.IsCompleted);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally { await Task.WhenAll(handedOver); } // each logs its own failure; stopped, they release their claims
    }

    /// <summary>Lists the uploads and hands the new ones to the labeller; the labelling goes on after this returns.</summary>
    private async Task<Task> HandOverNewUploadsAsync(CancellationToken ct)
    {
        var fresh = new List<BlobItem>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, ct))
        {
            if (blob.Metadata.ContainsKey(StorageNames.LabelModelMetadata)) continue;   // labelled
            lock (_gate)
            {
                if (_labelling.Contains(blob.Name)) continue;
                if (_handled.TryGetValue(blob.Name, out var etag) && etag == blob.Properties.ETag) continue;
                // A failed upload waits out its pause, unless it was replaced meanwhile (a new version is tried at once).
                if (_retries.TryGetValue(blob.Name, out var retry) && retry.ETag == blob.Properties.ETag && DateTimeOffset.UtcNow < retry.NotBefore) continue;
                _labelling.Add(blob.Name);
            }
            fresh.Add(blob);
        }
        return fresh.Count == 0 ? Task.CompletedTask : LabelAsync(fresh, ct);
    }

    private async Task LabelAsync(List<BlobItem> fresh, CancellationToken ct)
    {
        var uploads = fresh.ToDictionary(b => b.Name, StringComparer.Ordinal);
        // In an order of this host's own, so hosts on one account work through a burst from different places; the
        // labeller looks the model up once and featurizes what it has read in passes. An upload that storage will not
        // serve (e.g. a name it refuses) fails alone, and one another host holds is looked at again on the next poll.
        var order = uploads.Keys.ToArray();
        Random.Shared.Shuffle(order);
        try
        {
            var outcomes = options.LabelOneByOne ? LabelOneByOneAsync(order, ct) : labeller.LabelEachAsync(order, ct);
            await foreach (var outcome in outcomes) Record(uploads[outcome.Upload], outcome);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Labelling uploads failed ({Error}); trying again", e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            lock (_gate)
            {
                foreach (var name in uploads.Keys) _labelling.Remove(name); // not labelled: looked at again on the next poll
                OpenRoom();
            }
        }
    }

    private void Record(BlobItem blob, UploadOutcome outcome)
    {
        lock (_gate)
        {
            _labelling.Remove(blob.Name);
            OpenRoom();
            if (outcome.ClaimedElsewhere) return; // another host labels it; looked at again on the next poll
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

    /// <summary>Done when fewer than <see cref="RefillBelow"/> uploads are being labelled.</summary>
    private Task RoomAsync()
    {
        lock (_gate)
            return _labelling.Count < RefillBelow ? Task.CompletedTask : (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    }

    private void OpenRoom()
    {
        if (_room is null || _labelling.Count >= RefillBelow) return;
        _room.TrySetResult();
        _room = null;
    }

    private async IAsyncEnumerable<UploadOutcome> LabelOneByOneAsync(IReadOnlyList<string> names, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<UploadOutcome>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (name, token) =>
        {
            try { outcomes.Add(new UploadOutcome(name, await labeller.LabelAsync(name, token))); }
            catch (Exception e) when (e is not OperationCanceledException) { outcomes.Add(new UploadOutcome(name, null, e.Message)); }
        });
        foreach (var outcome in outcomes) yield return outcome;
    }

    /// <summary>The failure count and pause after one more failure of this version of the upload: the poll interval, doubled per failure.</summary>
    private (int Failures, TimeSpan Delay) NextRetry(BlobItem blob)
    {
        var failures = _retries.TryGetValue(blob.Name, out var retry) && retry.ETag == blob.Properties.ETag ? retry.Failures + 1 : 1;
        var delay = options.UploadPollInterval * Math.Pow(2, Math.Min(failures - 1, 20));
        return (failures, delay < MaxRetryDelay ? delay : MaxRetryDelay);
    }
}
