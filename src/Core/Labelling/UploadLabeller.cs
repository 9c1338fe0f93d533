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

    private readonly UploadClaims _claims = new(storage);

    /// <summary>Uploads labelled with one pass of the featurizer: enough to keep both of its threads busy, few enough
    /// that a batch's claims are held a second or two (other hosts take the rest).</summary>
    public int MaxBatch { get; init; } = 16;

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
        try
        {
            await storage.EnsureContainersAsync(ct);
            await using var claim = await _claims.ClaimAsync(uploadName, ct); // waits while another host labels it
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var (answer, unchanged, look) = await LookAsync(uploadName, unlabelledOnly, await CurrentModelAsync(ct), ct);
                    if (look is null) return unchanged ? telemetry.Unchanged(answer!) : telemetry.Done(answer);
                    return telemetry.Done(await FinishAsync(look, look.Result ?? Classify(look, ct), ct));
                }
                catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
                {
                    // The download resumes a broken read only If-Match the version it began with: the upload was
                    // replaced mid-read. Look again.
                    log.LogInformation("Upload {Name} changed while it was read; looking at it again", uploadName);
                }
                catch (UploadChangedException) when (attempt < 5)
                {
                    // A new version arrived while this one was labelled: label the version that is there now, so the last
                    // version's result is never replaced by an earlier version's.
                    log.LogInformation("Upload {Name} was replaced while it was labelled; labelling its new version", uploadName);
                }
            }
        }
        catch (Exception e) when (telemetry.Threw(e)) { throw; } // never true: notes the error on the span, catches nothing
    }

    /// <summary>The published model; "none" is checked again before an upload is told to wait, since the cached answer
    /// may be seconds old and a model published meanwhile has already had its pass over waiting uploads.</summary>
    private async Task<Flowers.Classify.PhotoClassifier?> CurrentModelAsync(CancellationToken ct) =>
        await model.GetAsync(ct: ct) ?? await model.GetAsync(recheck: true, ct);

    private LabelResult Classify(Look look, CancellationToken ct)
    {
        try
        {
            var label = look.Classifier.Classify(look.Content!.ToMemory().Span);
            return Labelled(look, label);
        }
        catch (PhotoRejectedException e) { return Failed(look.Upload.Name, look.Classifier.ModelId, e.Reason); }
    }

    private LabelResult Labelled(Look look, Flowers.Classify.PhotoLabel label) =>
        new(look.Upload.Name, label.Label, label.Confidence, label.Probabilities, look.Classifier.ModelId, _time.GetUtcNow());

    /// <summary>The version of an upload that was read: what its label is marked against.</summary>
    private sealed record UploadVersion(ETag ETag, IDictionary<string, string> Metadata);

    /// <summary>An upload read and ready to label: its bytes (or, too large, the result that says so) and the model.</summary>
    private sealed record Look(Azure.Storage.Blobs.BlobClient Upload, UploadVersion Version, Flowers.Classify.PhotoClassifier Classifier,
        BinaryData? Content, LabelResult? Result);

    /// <summary>
    /// Reads an upload for labelling. Answers at once where nothing is to classify: null for a gone upload, the pending
    /// result while no model is published, the refusal of a name too long, or (unchanged) the result it already has.
    /// </summary>
    private async Task<(LabelResult? Answer, bool Unchanged, Look? Look)> LookAsync(string uploadName, bool unlabelledOnly,
        Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
    {
        var upload = storage.Uploads.GetBlobClient(uploadName);
        // One request: the download's headers carry the version (ETag, metadata, length) and its body is read only when
        // it is to be classified, so version and bytes always match.
        BlobDownloadStreamingResult download;
        try { download = (await upload.DownloadStreamingAsync(cancellationToken: ct)).Value; }
        catch (RequestFailedException e) when (e.Status == 404) { log.LogInformation("Upload {Name} is gone", uploadName); return (null, false, null); }
        await using var body = download.Content;
        var version = new UploadVersion(download.Details.ETag, download.Details.Metadata);

        if (StorageNames.LabelBlob(uploadName).Length > StorageNames.MaxBlobNameLength)
            return (await RefuseNameAsync(upload, version, classifier, ct), false, null);
        var resultBlob = storage.Labels.GetBlobClient(StorageNames.LabelBlob(uploadName));
        if (classifier is null)
        {
            var pending = new LabelResult(uploadName, null, null, null, null, _time.GetUtcNow(), NoModelYet, Pending: true);
            await resultBlob.WriteAsync(pending, ct: ct);
            return (pending, false, null);
        }
        var done = unlabelledOnly ? IsLabelled(version.Metadata) : IsLabelledBy(version.Metadata, classifier.ModelId);
        if (done && await resultBlob.ReadOrDefaultAsync<LabelResult>(ct) is { } earlier
            && (earlier.UploadETag is null || earlier.UploadETag == version.ETag.ToString()))
            return (earlier, true, null); // not counted as labelled again

        if (download.Details.ContentLength > MaxUploadBytes)
            return (null, false, new Look(upload, version, classifier, null,
                Failed(uploadName, classifier.ModelId, $"file is {download.Details.ContentLength} bytes; photos of at most {MaxUploadBytes} bytes are labelled")));
        return (null, false, new Look(upload, version, classifier, await BinaryData.FromStreamAsync(body, ct), null));
    }

    /// <summary>
    /// Marked first (If-Match: the version that was read), so the result can name the ETag the upload has with its
    /// label; then the result is written, and the upload looked at once more: if another version arrived since,
    /// another labeller may have written that version's result before this write replaced it.
    /// </summary>
    private async Task<LabelResult> FinishAsync(Look look, LabelResult result, CancellationToken ct)
    {
        var marked = await MarkAsync(look.Upload, look.Version, result, ct) ?? throw new UploadChangedException();
        result = result with { UploadETag = marked.ToString() };
        await storage.Labels.GetBlobClient(StorageNames.LabelBlob(look.Upload.Name)).WriteAsync(result, ct: ct);
        try
        {
            if ((await look.Upload.GetPropertiesAsync(cancellationToken: ct)).Value.ETag != marked) throw new UploadChangedException();
        }
        catch (RequestFailedException e) when (e.Status == 404) { } // deleted since: its result stays as the last word
        log.LogInformation("Labelled {Name}: {Label}{Error}", look.Upload.Name, result.Label, result.Error);
        return result;
    }

    /// <summary>
    /// Labels many uploads with one look at the model and one pass of the featurizer a batch of <see cref="MaxBatch"/>
    /// (a burst labels as fast as training featurizes). An upload another labeller (host) holds is left to it
    /// (<see cref="UploadOutcome.ClaimedElsewhere"/>); one that fails costs only itself (<see cref="UploadOutcome.Failure"/>).
    /// </summary>
    public async Task<IReadOnlyList<UploadOutcome>> LabelBatchAsync(IReadOnlyList<string> uploadNames, CancellationToken ct = default) =>
        await LabelBatchAsync(uploadNames, unlabelledOnly: false, ct);

    private async Task<IReadOnlyList<UploadOutcome>> LabelBatchAsync(IReadOnlyList<string> uploadNames, bool unlabelledOnly, CancellationToken ct)
    {
        await storage.EnsureContainersAsync(ct);
        var names = uploadNames.Distinct(StringComparer.Ordinal).ToList();
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, UploadOutcome>(StringComparer.Ordinal);
        // Two batches at a time: one's storage calls overlap the other's featurizing.
        await Parallel.ForEachAsync(names.Chunk(MaxBatch), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct },
            async (batch, token) => await LabelOneBatchAsync(batch, unlabelledOnly, outcomes, token));
        return names.Select(n => outcomes[n]).ToList();
    }

    private const int StorageParallelism = 8;

    private async Task LabelOneBatchAsync(string[] names, bool unlabelledOnly,
        System.Collections.Concurrent.ConcurrentDictionary<string, UploadOutcome> outcomes, CancellationToken ct)
    {
        var classifier = await CurrentModelAsync(ct);
        var claims = new System.Collections.Concurrent.ConcurrentBag<UploadClaim>();
        var looks = new System.Collections.Concurrent.ConcurrentDictionary<string, (Look Look, FlowersTelemetry.Labelling Telemetry)>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = StorageParallelism, CancellationToken = ct };
        UploadOutcome Failure(string name, Exception e)
        {
            log.LogDebug(e, "Labelling upload {Name} failed ({Error})", name, e.Message); // the caller says what happens next
            return new UploadOutcome(name, null, e.Message);
        }
        try
        {
            await Parallel.ForEachAsync(names, parallel, async (name, token) =>
            {
                FlowersTelemetry.Labelling? telemetry = null;
                try
                {
                    if (await _claims.TryClaimAsync(name, token) is not { } claim)
                    {
                        outcomes[name] = new UploadOutcome(name, null, ClaimedElsewhere: true); // counted by the host that holds it
                        return;
                    }
                    claims.Add(claim);
                    telemetry = FlowersTelemetry.StartLabelling(name);
                    var (answer, unchanged, look) = await LookAsync(name, unlabelledOnly, classifier, token);
                    if (look is not null) { looks[name] = (look, telemetry); return; }
                    outcomes[name] = new UploadOutcome(name, unchanged ? telemetry.Unchanged(answer!) : telemetry.Done(answer));
                    telemetry.Dispose();
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    telemetry ??= FlowersTelemetry.StartLabelling(name); // a failed claim is this upload's error too
                    telemetry.Threw(e);
                    telemetry.Dispose();
                    outcomes[name] = Failure(name, e);
                }
            });

            // One pass of the featurizer over every photo of the batch (CPU-bound: off the storage calls' threads).
            var photos = looks.Values.Where(l => l.Look.Content is not null).Select(l => l.Look).ToList();
            var labels = photos.Count == 0 ? [] : await Task.Run(() => classifier!.ClassifyAll(
                photos.Select(l => new PhotoBytes(l.Upload.Name, l.Content!.ToMemory())), ct).ToDictionary(r => r.Key), ct);

            await Parallel.ForEachAsync(looks.Values, parallel, async (item, token) =>
            {
                var (look, telemetry) = item;
                var name = look.Upload.Name;
                try
                {
                    var result = look.Result ?? (labels[name] is { Label: { } label } ? Labelled(look, label) : Failed(name, look.Classifier.ModelId, labels[name].Error!));
                    outcomes[name] = new UploadOutcome(name, telemetry.Done(await FinishAsync(look, result, token)));
                }
                catch (UploadChangedException)
                {
                    telemetry.Superseded();
                    outcomes[name] = new UploadOutcome(name, null, Superseded: true);
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    telemetry.Threw(e);
                    outcomes[name] = Failure(name, e);
                }
                finally { telemetry.Dispose(); }
            });
        }
        finally
        {
            await Parallel.ForEachAsync(claims, new ParallelOptions { MaxDegreeOfParallelism = StorageParallelism }, async (claim, _) => await claim.DisposeAsync());
        }
        // Replaced while the batch labelled it: its new version is labelled on its own, now that its claim is released.
        foreach (var name in names.Where(n => outcomes[n].Superseded))
        {
            try { outcomes[name] = new UploadOutcome(name, await LabelAsync(name, unlabelledOnly, ct)); }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { outcomes[name] = Failure(name, e); }
        }
    }

    /// <summary>Labels every upload that has no label yet (e.g. uploaded before any model was published).</summary>
    /// <returns>How many were labelled (or got an error result), and how many failed: an upload's failure is logged
    /// with its name and costs only that upload (it stays pending, so the next pass or its trigger tries it again).
    /// Uploads another host is labelling meanwhile are left to it and counted by neither.</returns>
    public async Task<PendingLabelling> LabelPendingAsync(CancellationToken ct = default)
    {
        await storage.EnsureContainersAsync(ct);
        if (await model.GetAsync(recheck: true, ct) is null) return new PendingLabelling(0, 0);
        var pending = new List<string>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, ct))
            if (!IsLabelled(blob.Metadata)) pending.Add(blob.Name);
        var outcomes = await LabelBatchAsync(pending, unlabelledOnly: true, ct);
        var failures = outcomes.Where(o => o.Failure is not null).ToList();
        foreach (var failure in failures)
            log.LogError("Upload {Name} could not be labelled ({Error}); it stays pending", failure.Upload, failure.Failure);
        if (failures.Count > 0) log.LogWarning("{Failed} of {Pending} waiting uploads could not be labelled", failures.Count, pending.Count);
        return new PendingLabelling(outcomes.Count(o => o.Result is { Pending: false }), failures.Count);
    }

    /// <summary>
    /// An upload whose labels/{name}.json would exceed Blob Storage's name limit cannot get a result blob (the write
    /// fails with 400 every time). Its error goes on the upload's metadata instead, so it is not tried again.
    /// </summary>
    private async Task<LabelResult> RefuseNameAsync(Azure.Storage.Blobs.BlobClient upload, UploadVersion version,
        Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
    {
        var reason = $"name is too long: its result labels/{{name}}.json would be {StorageNames.LabelBlob(upload.Name).Length} characters "
            + $"(Blob Storage allows {StorageNames.MaxBlobNameLength}); upload it under a name of at most "
            + $"{StorageNames.MaxBlobNameLength - StorageNames.LabelBlob("").Length} characters";
        log.LogWarning("Upload {Name} not labelled: {Reason}", upload.Name, reason);
        var result = Failed(upload.Name, classifier?.ModelId ?? "none", reason);
        await MarkAsync(upload, version, result, ct);
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
    private async Task<ETag?> MarkAsync(Azure.Storage.Blobs.BlobClient upload, UploadVersion version, LabelResult result, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string>(version.Metadata);
        metadata.Remove(StorageNames.LabelMetadata);
        metadata.Remove(StorageNames.LabelErrorMetadata);
        metadata[StorageNames.LabelModelMetadata] = result.ModelId!;
        if (result.Label is not null) metadata[StorageNames.LabelMetadata] = HeaderSafe(result.Label);
        else metadata[StorageNames.LabelErrorMetadata] = HeaderSafe(result.Error ?? "error");
        try
        {
            return (await upload.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = version.ETag }, ct)).Value.ETag;
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
