using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Diagnostics;
using Flowers.Featurize;
using Flowers.Storage;
using System.Threading.Channels;
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

    /// <summary>One featurizer pass at a time in this process: it uses every core it has.</summary>
    private readonly SemaphoreSlim _featurizer = new(1);

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
    /// Labels many uploads with one look at the model and passes of the featurizer of up to <see cref="MaxBatch"/>
    /// photos (a burst labels as fast as training featurizes). An upload another labeller (host) holds is left to it
    /// (<see cref="UploadOutcome.ClaimedElsewhere"/>); one that fails costs only itself (<see cref="UploadOutcome.Failure"/>).
    /// </summary>
    public async Task<IReadOnlyList<UploadOutcome>> LabelBatchAsync(IReadOnlyList<string> uploadNames, CancellationToken ct = default) =>
        await LabelBatchAsync(uploadNames, unlabelledOnly: false, ct);

    private async Task<IReadOnlyList<UploadOutcome>> LabelBatchAsync(IReadOnlyList<string> uploadNames, bool unlabelledOnly, CancellationToken ct)
    {
        var outcomes = new Dictionary<string, UploadOutcome>(StringComparer.Ordinal);
        await foreach (var outcome in LabelEachAsync(uploadNames, unlabelledOnly, ct)) outcomes[outcome.Upload] = outcome;
        return uploadNames.Distinct(StringComparer.Ordinal).Select(n => outcomes[n]).ToList();
    }

    /// <summary>As <see cref="LabelBatchAsync(IReadOnlyList{string}, CancellationToken)"/>, each upload's outcome as soon as
    /// it is done, so a caller can hand over more uploads before these are all labelled.</summary>
    public IAsyncEnumerable<UploadOutcome> LabelEachAsync(IReadOnlyList<string> uploadNames, CancellationToken ct = default) =>
        LabelEachAsync(uploadNames, unlabelledOnly: false, ct);

    private async IAsyncEnumerable<UploadOutcome> LabelEachAsync(IReadOnlyList<string> uploadNames, bool unlabelledOnly,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await storage.EnsureContainersAsync(ct);
        var done = Channel.CreateUnbounded<UploadOutcome>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var line = new LabellingLine(this, unlabelledOnly, done.Writer).RunAsync(uploadNames.Distinct(StringComparer.Ordinal).ToList(), stop.Token);
        try
        {
            await foreach (var outcome in done.Reader.ReadAllAsync(ct)) yield return outcome;
        }
        finally
        {
            await stop.CancelAsync(); // the caller stopped reading: the line stops, and releases what it claimed
            await line;
        }
    }

    private const int StorageParallelism = 8;

    private ILogger Log => log;

    /// <summary>
    /// One call's uploads in three stages that run side by side: claimed and read (storage, several at a time), labelled
    /// in featurizer passes of whatever has been read meanwhile (CPU, one pass at a time in this process), then marked,
    /// written and released (storage). The featurizer so never waits for a batch's slowest storage call, and storage
    /// never for a pass; what is claimed ahead of the featurizer is bounded, so claims are held for seconds.
    /// </summary>
    private sealed class LabellingLine(UploadLabeller labeller, bool unlabelledOnly, ChannelWriter<UploadOutcome> done)
    {
        private sealed record Claimed(UploadClaim Claim, Look Look, FlowersTelemetry.Labelling Telemetry);

        private readonly Channel<Claimed> _read = Channel.CreateUnbounded<Claimed>();
        private readonly SemaphoreSlim _ahead = new(2 * labeller.MaxBatch);
        private readonly SemaphoreSlim _finishing = new(StorageParallelism);
        private readonly SemaphoreSlim _readDone = new(0);
        private int _reading;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<UploadClaim, byte> _held = new();
        private readonly List<Task> _finishes = [];

        /// <summary>Never throws: an error that stops the line completes <c>done</c> with it.</summary>
        public async Task RunAsync(List<string> names, CancellationToken ct)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var reading = Task.CompletedTask;
            try
            {
                var classifier = await labeller.CurrentModelAsync(stop.Token);
                reading = ReadAllAsync(names, classifier, stop.Token);
                await FeaturizeAllAsync(classifier, stop.Token);
                await reading;
                await Task.WhenAll(Finishes());
                done.TryComplete();
            }
            catch (Exception e)
            {
                // One stage stopped (cancelled, or failed): the other stops too, and what has begun finishing finishes.
                await stop.CancelAsync();
                try { await reading; } catch (Exception) { } // its error, if any, is the one reported or comes from the same stop
                try { await Task.WhenAll(Finishes()); } catch (Exception) { } // each reports its own outcome
                done.TryComplete(e);
            }
            finally
            {
                // Stopped part way: what is still claimed (read, never featurized) is released for the next labeller.
                await Parallel.ForEachAsync(_held.Keys, new ParallelOptions { MaxDegreeOfParallelism = StorageParallelism }, async (claim, _) => await claim.DisposeAsync());
            }
        }

        private Task[] Finishes()
        {
            lock (_finishes) return [.. _finishes];
        }

        private async Task ReadAllAsync(List<string> names, Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
        {
            try
            {
                await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = StorageParallelism, CancellationToken = ct },
                    async (name, token) => await ReadAsync(name, classifier, token));
            }
            finally { _read.Writer.TryComplete(); }
        }

        private async Task ReadAsync(string name, Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
        {
            await _ahead.WaitAsync(ct);
            Interlocked.Increment(ref _reading);
            var handedOn = false;
            FlowersTelemetry.Labelling? telemetry = null;
            UploadClaim? claim = null;
            try
            {
                claim = await labeller._claims.TryClaimAsync(name, ct);
                if (claim is null)
                {
                    done.TryWrite(new UploadOutcome(name, null, ClaimedElsewhere: true)); // counted by the host that holds it
                    return;
                }
                _held[claim] = 0;
                telemetry = FlowersTelemetry.StartLabelling(name);
                var (answer, unchanged, look) = await labeller.LookAsync(name, unlabelledOnly, classifier, ct);
                if (look is { Content: not null })
                {
                    await _read.Writer.WriteAsync(new Claimed(claim, look, telemetry), ct);
                    handedOn = true;
                }
                else if (look is not null) // nothing to featurize (too large): its result is written now
                {
                    handedOn = true;
                    _ahead.Release();
                    Finish(new Claimed(claim, look, telemetry), look.Result!);
                }
                else
                {
                    done.TryWrite(new UploadOutcome(name, unchanged ? telemetry.Unchanged(answer!) : telemetry.Done(answer)));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                telemetry ??= FlowersTelemetry.StartLabelling(name); // a failed claim is this upload's error too
                telemetry.Threw(e);
                done.TryWrite(Failure(name, e));
            }
            finally
            {
                Interlocked.Decrement(ref _reading);
                _readDone.Release();
                if (!handedOn)
                {
                    _ahead.Release();
                    telemetry?.Dispose();
                    if (claim is not null) await ReleaseAsync(claim);
                }
            }
        }

        private async Task FeaturizeAllAsync(Flowers.Classify.PhotoClassifier? classifier, CancellationToken ct)
        {
            while (await _read.Reader.WaitToReadAsync(ct))
            {
                // A full pass while more is being read: a pass of one or two photos costs the featurizer's setup (its
                // threads, their buffers) for little work.
                while (_read.Reader.Count < labeller.MaxBatch && Volatile.Read(ref _reading) > 0) await _readDone.WaitAsync(ct);
                var pass = new List<Claimed>(labeller.MaxBatch);
                while (pass.Count < labeller.MaxBatch && _read.Reader.TryRead(out var item)) pass.Add(item);
                _ahead.Release(pass.Count);
                Dictionary<string, (string Key, Flowers.Classify.PhotoLabel? Label, string? Error)>? labels = null;
                await labeller._featurizer.WaitAsync(ct);
                try
                {
                    labels = await Task.Run(() => classifier!.ClassifyAll(
                        pass.Select(c => new PhotoBytes(c.Look.Upload.Name, c.Look.Content!.ToMemory())), ct).ToDictionary(r => r.Key), ct);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    foreach (var item in pass) Fail(item, e);
                    continue;
                }
                finally { labeller._featurizer.Release(); }
                foreach (var item in pass)
                {
                    var (look, name) = (item.Look, item.Look.Upload.Name);
                    Finish(item, labels[name] is { Label: { } label } ? labeller.Labelled(look, label) : labeller.Failed(name, look.Classifier.ModelId, labels[name].Error!));
                }
            }
        }

        private void Finish(Claimed item, LabelResult result)
        {
            var finish = FinishAsync(item, result);
            lock (_finishes) _finishes.Add(finish);
        }

        private void Fail(Claimed item, Exception e)
        {
            item.Telemetry.Threw(e);
            item.Telemetry.Dispose();
            done.TryWrite(Failure(item.Look.Upload.Name, e));
            lock (_finishes) _finishes.Add(ReleaseAsync(item.Claim));
        }

        private async Task FinishAsync(Claimed item, LabelResult result)
        {
            var name = item.Look.Upload.Name;
            UploadOutcome? outcome = null;
            await _finishing.WaitAsync();
            try { outcome = new UploadOutcome(name, item.Telemetry.Done(await labeller.FinishAsync(item.Look, result, CancellationToken.None))); }
            catch (UploadChangedException) { item.Telemetry.Superseded(); }
            catch (Exception e) { item.Telemetry.Threw(e); outcome = Failure(name, e); }
            finally
            {
                item.Telemetry.Dispose();
                await ReleaseAsync(item.Claim);
                _finishing.Release();
            }
            // Replaced while it was labelled: its new version is labelled on its own, now that its claim is released.
            if (outcome is null)
            {
                try { outcome = new UploadOutcome(name, await labeller.LabelAsync(name, unlabelledOnly, CancellationToken.None)); }
                catch (Exception e) { outcome = Failure(name, e); }
            }
            done.TryWrite(outcome);
        }

        private async Task ReleaseAsync(UploadClaim claim)
        {
            if (_held.TryRemove(claim, out _)) await claim.DisposeAsync();
        }

        private UploadOutcome Failure(string name, Exception e)
        {
            labeller.Log.LogDebug(e, "Labelling upload {Name} failed ({Error})", name, e.Message); // the caller says what happens next
            return new UploadOutcome(name, null, e.Message);
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
