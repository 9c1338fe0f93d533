using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Diagnostics;
using Flowers.Featurize;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Labelling;

/// <summary>
/// Labels photos uploaded to the uploads container with the published model: writes labels/{name}.json and
/// sets the label as metadata on the upload. Idempotent: an upload already labelled by the current model
/// (its metadata says so) is left alone, so a re-delivered trigger, or the trigger that setting the
/// metadata itself causes, writes nothing. A file that is not a readable image gets a result with the
/// reason, never an exception (no poison-message loop).
/// </summary>
public sealed class UploadLabeller(FlowersStorage storage, PublishedModel model, ILogger<UploadLabeller> log, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Uploads larger than this are not downloaded; the result says why.</summary>
    public long MaxUploadBytes { get; init; } = Flowers.Acquire.AcquireOptions.DefaultMaxPhotoBytes;

    public const string NoModelYet = "no model is published yet; the photo is labelled when one is";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<LabelResult?>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Labels one upload; null when the blob is gone (deleted before it was labelled).</summary>
    public Task<LabelResult?> LabelAsync(string uploadName, CancellationToken ct = default) => LabelAsync(uploadName, unlabelledOnly: false, ct);

    /// <param name="unlabelledOnly">Leave the upload as it is when any model labelled it meanwhile (the pass over
    /// uploads that waited for a model: an upload the watcher or trigger labelled since is not labelled again).</param>
    private async Task<LabelResult?> LabelAsync(string uploadName, bool unlabelledOnly, CancellationToken ct)
    {
        // One labelling of an upload at a time in this process: the watcher (or trigger) and the pass over pending
        // uploads after a publish can ask for the same upload at once; the second caller gets the first one's result.
        var mine = new Lazy<Task<LabelResult?>>(() => LabelWithRetriesAsync(uploadName, unlabelledOnly, ct));
        var running = _inFlight.GetOrAdd(uploadName, mine);
        if (!ReferenceEquals(running, mine)) return await running.Value;
        try { return await mine.Value; }
        finally { _inFlight.TryRemove(KeyValuePair.Create(uploadName, mine)); }
    }

    private async Task<LabelResult?> LabelWithRetriesAsync(string uploadName, bool unlabelledOnly, CancellationToken ct)
    {
        using var telemetry = FlowersTelemetry.StartLabelling(uploadName); // one span and latency an upload, retries included
        for (var attempt = 1; ; attempt++)
        {
            try { return telemetry.Done(await LabelOnceAsync(uploadName, unlabelledOnly, telemetry, ct)); }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
            {
                // The upload changed between reading its properties and its bytes: another caller labelled it meanwhile
                // (the pass over pending uploads after a publish, a re-delivered trigger) or it was replaced. Look again.
                log.LogInformation("Upload {Name} changed while it was read; looking at it again", uploadName);
            }
            catch (UploadChangedException) when (attempt < 5)
            {
                // A new version arrived while this one was labelled: label the version that is there now, so the last
                // version's result is never replaced by an earlier version's.
                log.LogInformation("Upload {Name} was replaced while it was labelled; labelling its new version", uploadName);
            }
            catch (Exception e) when (telemetry.Threw(e)) { throw; } // never true: notes the error on the span, catches nothing
        }
    }

    private async Task<LabelResult?> LabelOnceAsync(string uploadName, bool unlabelledOnly, FlowersTelemetry.Labelling telemetry, CancellationToken ct)
    {
        await storage.EnsureContainersAsync(ct);
        var upload = storage.Uploads.GetBlobClient(uploadName);
        BlobProperties properties;
        try { properties = (await upload.GetPropertiesAsync(cancellationToken: ct)).Value; }
        catch (RequestFailedException e) when (e.Status == 404) { log.LogInformation("Upload {Name} is gone", uploadName); return null; }

        var classifier = await model.GetAsync(ct: ct);
        if (StorageNames.LabelBlob(uploadName).Length > StorageNames.MaxBlobNameLength)
            return await RefuseNameAsync(upload, properties, classifier, ct);
        var resultBlob = storage.Labels.GetBlobClient(StorageNames.LabelBlob(uploadName));
        if (classifier is null)
        {
            var pending = new LabelResult(uploadName, null, null, null, null, _time.GetUtcNow(), NoModelYet, Pending: true);
            await resultBlob.WriteAsync(pending, ct: ct);
            return pending;
        }
        var done = unlabelledOnly ? IsLabelled(properties.Metadata) : IsLabelledBy(properties.Metadata, classifier.ModelId);
        if (done && await resultBlob.ReadOrDefaultAsync<LabelResult>(ct) is { } earlier
            && (earlier.UploadETag is null || earlier.UploadETag == properties.ETag.ToString()))
            return telemetry.Unchanged(earlier); // not counted as labelled again

        LabelResult result;
        if (properties.ContentLength > MaxUploadBytes)
            result = Failed(uploadName, classifier.ModelId, $"file is {properties.ContentLength} bytes; photos of at most {MaxUploadBytes} bytes are labelled");
        else
        {
            var content = await upload.DownloadContentAsync(new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } }, ct);
            try
            {
                var label = classifier.Classify(content.Value.Content.ToMemory().Span);
                result = new LabelResult(uploadName, label.Label, label.Confidence, label.Probabilities, classifier.ModelId, _time.GetUtcNow());
            }
            catch (PhotoRejectedException e)
            {
                result = Failed(uploadName, classifier.ModelId, e.Reason);
            }
        }

        // Marked first (If-Match: the version that was read), so the result can name the ETag the upload has with its
        // label; then the result is written, and the upload looked at once more: if another version arrived since,
        // another labeller may have written that version's result before this write replaced it.
        var marked = await MarkAsync(upload, properties, result, ct) ?? throw new UploadChangedException();
        result = result with { UploadETag = marked.ToString() };
        await resultBlob.WriteAsync(result, ct: ct);
        try
        {
            if ((await upload.GetPropertiesAsync(cancellationToken: ct)).Value.ETag != marked) throw new UploadChangedException();
        }
        catch (RequestFailedException e) when (e.Status == 404) { } // deleted since: its result stays as the last word
        log.LogInformation("Labelled {Name}: {Label}{Error}", uploadName, result.Label, result.Error);
        return result;
    }

    /// <summary>Labels every upload that has no label yet (e.g. uploaded before any model was published).</summary>
    /// <returns>How many were labelled (or got an error result), and how many failed: an upload's failure is logged
    /// with its name and costs only that upload (it stays pending, so the next pass or its trigger tries it again).</returns>
    public async Task<PendingLabelling> LabelPendingAsync(CancellationToken ct = default)
    {
        await storage.EnsureContainersAsync(ct);
        if (await model.GetAsync(recheck: true, ct) is null) return new PendingLabelling(0, 0);
        var pending = new List<string>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, ct))
            if (!IsLabelled(blob.Metadata)) pending.Add(blob.Name);
        int labelled = 0, failed = 0;
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (name, token) =>
        {
            try
            {
                if (await LabelAsync(name, unlabelledOnly: true, token) is { Pending: false }) Interlocked.Increment(ref labelled);
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
                log.LogError(e, "Upload {Name} could not be labelled ({Error}); it stays pending", name, e.Message);
            }
        });
        if (failed > 0) log.LogWarning("{Failed} of {Pending} waiting uploads could not be labelled", failed, pending.Count);
        return new PendingLabelling(labelled, failed);
    }

    /// <summary>
    /// An upload whose labels/{name}.json would exceed Blob Storage's name limit cannot get a result blob (the write
    /// fails with 400 every time). Its error goes on the upload's metadata instead, so it is not tried again.
    /// </summary>
    private async Task<LabelResult> RefuseNameAsync(Azure.Storage.Blobs.BlobClient upload, BlobProperties properties,
        Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
    {
        var reason = $"name is too long: its result labels/{{name}}.json would be {StorageNames.LabelBlob(upload.Name).Length} characters "
            + $"(Blob Storage allows {StorageNames.MaxBlobNameLength}); upload it under a name of at most "
            + $"{StorageNames.MaxBlobNameLength - StorageNames.LabelBlob("").Length} characters";
        log.LogWarning("Upload {Name} not labelled: {Reason}", upload.Name, reason);
        var result = Failed(upload.Name, classifier?.ModelId ?? "none", reason);
        await MarkAsync(upload, properties, result, ct);
        return result;
    }

    private LabelResult Failed(string upload, string modelId, string reason) =>
        new(upload, null, null, null, modelId, _time.GetUtcNow(), reason);

    private static bool IsLabelled(IDictionary<string, string>? metadata) =>
        metadata is not null && (metadata.ContainsKey(StorageNames.LabelMetadata) || metadata.ContainsKey(StorageNames.LabelErrorMetadata));

    private static bool IsLabelledBy(IDictionary<string, string>? metadata, string modelId) =>
        IsLabelled(metadata) && metadata!.TryGetValue(StorageNames.LabelModelMetadata, out var by) && by == modelId;

    private sealed class UploadChangedException() : Exception("the upload was replaced while it was labelled");

    /// <summary>Sets the label as metadata on the upload, unless the upload was replaced meanwhile.</summary>
    /// <returns>The upload's ETag with its label; null when it was replaced or deleted meanwhile.</returns>
    private async Task<ETag?> MarkAsync(Azure.Storage.Blobs.BlobClient upload, BlobProperties properties, LabelResult result, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string>(properties.Metadata);
        metadata.Remove(StorageNames.LabelMetadata);
        metadata.Remove(StorageNames.LabelErrorMetadata);
        metadata[StorageNames.LabelModelMetadata] = result.ModelId!;
        if (result.Label is not null) metadata[StorageNames.LabelMetadata] = HeaderSafe(result.Label);
        else metadata[StorageNames.LabelErrorMetadata] = HeaderSafe(result.Error ?? "error");
        try
        {
            return (await upload.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = properties.ETag }, ct)).Value.ETag;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return null;
        }
    }

    /// <summary>Metadata values travel as HTTP headers: ASCII only, and kept short.</summary>
    private static string HeaderSafe(string value)
    {
        var safe = value.All(c => c is >= ' ' and <= '~') ? value : Uri.EscapeDataString(value);
        return safe.Length > 256 ? safe[..256] : safe;
    }
}
