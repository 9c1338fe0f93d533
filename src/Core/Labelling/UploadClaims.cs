using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Storage;

namespace Flowers.Labelling;

/// <summary>
/// One labeller at a time for each upload, across every host on the storage account: the empty blob claims/{upload},
/// made only if it is not there (If-None-Match: *). The storage account's conditional writes are the lock, so hosts need
/// no other coordination; a claim left by a host that was killed goes stale after <see cref="HoldTime"/> by the storage
/// account's own clock (its Last-Modified against the response's Date), and the next host replaces it.
/// </summary>
public sealed class UploadClaims(FlowersStorage storage, TimeSpan? holdTime = null)
{
    /// <summary>Long enough for a batch's labelling (seconds), short enough that a killed host's uploads wait little.</summary>
    public static readonly TimeSpan DefaultHoldTime = TimeSpan.FromSeconds(30);

    public TimeSpan HoldTime { get; } = holdTime ?? DefaultHoldTime;

    /// <summary>The claim on this upload, or null while another labeller (any host) holds it.</summary>
    public async Task<UploadClaim?> TryClaimAsync(string uploadName, CancellationToken ct = default)
    {
        var blob = storage.Claims.GetBlobClient(uploadName);
        for (var attempt = 1; ; attempt++)
        {
            // One request a claim, one to release it: most uploads are claimed once, by the first host to ask.
            try
            {
                var made = await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
                return new UploadClaim(blob, made.Value.ETag);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { } // there already: held, or left by a killed host
            if (attempt == 3) return null;
            Response<BlobProperties> held;
            try { held = await blob.GetPropertiesAsync(cancellationToken: ct); }
            catch (RequestFailedException e) when (e.Status == 404) { continue; } // its holder released it meanwhile
            var now = held.GetRawResponse().Headers.Date ?? DateTimeOffset.UtcNow;
            if (now - held.Value.LastModified < HoldTime) return null; // another labeller has it
            // Stale: replaced only if it is still the claim that was read, so of two hosts that see it stale, one takes it.
            try { await blob.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = held.Value.ETag }, cancellationToken: ct); }
            catch (RequestFailedException e) when (e.Status is 404 or 412) { }
        }
    }

    /// <summary>Waits for the claim (the holder finishes, or its claim goes stale), at most a hold time and a little.</summary>
    /// <exception cref="TimeoutException">Another labeller kept claiming it: the caller's trigger tries again later.</exception>
    public async Task<UploadClaim> ClaimAsync(string uploadName, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + HoldTime + TimeSpan.FromSeconds(5);
        for (var pause = TimeSpan.FromMilliseconds(50); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(1).Ticks)))
        {
            if (await TryClaimAsync(uploadName, ct) is { } claim) return claim;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"upload '{uploadName}' stayed claimed by another labeller for {HoldTime.TotalSeconds + 5:0} s");
            await Task.Delay(pause, ct);
        }
    }
}

/// <summary>A held claim; disposing releases it at once (deletes the claim blob, if it is still this claim).</summary>
public sealed class UploadClaim(Azure.Storage.Blobs.BlobClient blob, ETag made) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        try { await blob.DeleteAsync(conditions: new BlobRequestConditions { IfMatch = made }); }
        catch (RequestFailedException) { } // it went stale and another labeller took it: the claim is theirs now
    }
}
