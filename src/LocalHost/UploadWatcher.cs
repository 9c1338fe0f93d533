using Azure.Storage.Blobs.Models;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The local stand-in for the blob trigger: looks at the uploads container a few times a second and hands
/// each new or changed upload to the same <see cref="UploadLabeller"/> the LabelUpload function calls.
/// Uploads that arrived while no host ran are found on the first look, since the state it keeps is only
/// what it has already handed over in this process.
/// </summary>
public sealed class UploadWatcher(FlowersStorage storage, UploadLabeller labeller, LocalHostOptions options, ILogger<UploadWatcher> log)
    : BackgroundService
{
    private readonly Dictionary<string, Azure.ETag> _handled = new();

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
            fresh.Add(blob);
        }
        var failed = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        await Parallel.ForEachAsync(fresh, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (blob, token) =>
        {
            // One upload that storage will not serve (e.g. a name it refuses) must not stop the others being labelled.
            try { await labeller.LabelAsync(blob.Name, token); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed[blob.Name] = true;
                log.LogWarning("Labelling upload {Name} failed ({Error}); trying again", blob.Name, e.Message);
            }
        });
        foreach (var blob in fresh.Where(b => !failed.ContainsKey(b.Name))) _handled[blob.Name] = blob.Properties.ETag!.Value;
    }
}
