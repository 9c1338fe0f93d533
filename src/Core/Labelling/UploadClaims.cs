using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Flowers.Storage;

namespace Flowers.Labelling;

/// <summary>
/// One labeller at a time for each upload, across every host on the storage account: a blob lease on
/// claims/{upload}. Leases are the storage account's own lock, so hosts need no other coordination, and a lease
/// held by a host that was killed runs out after <see cref="LeaseTime"/>, when another host takes the upload.
/// </summary>
public sealed class UploadClaims(FlowersStorage storage)
{
    /// <summary>Long enough for a batch's labelling (seconds), short enough that a killed host's uploads wait little.</summary>
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);

    /// <summary>The claim on this upload, or null while another labeller (any host) holds it.</summary>
    public async Task<UploadClaim?> TryClaimAsync(string uploadName, CancellationToken ct = default)
    {
        var blob = storage.Claims.GetBlobClient(uploadName);
        var lease = blob.GetBlobLeaseClient();
        for (var attempt = 1; ; attempt++)
        {
            // Made first, as most uploads are claimed once: two requests a claim, and the claim blob goes with the release.
            try { await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct); }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { } // there already: held, or left by a killed host
            try
            {
                await lease.AcquireAsync(LeaseTime, cancellationToken: ct);
                return new UploadClaim(blob, lease);
            }
            catch (RequestFailedException e) when (e.Status == 409) { return null; } // leased: another labeller has it
            catch (RequestFailedException e) when (e.Status == 404 && attempt < 3) { } // its holder released it meanwhile
        }
    }

    /// <summary>Waits for the claim (the holder finishes, or its lease runs out), at most a lease time and a little.</summary>
    /// <exception cref="TimeoutException">Another labeller kept renewing it: the caller's trigger tries again later.</exception>
    public async Task<UploadClaim> ClaimAsync(string uploadName, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + LeaseTime + TimeSpan.FromSeconds(5);
        for (var pause = TimeSpan.FromMilliseconds(50); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(1).Ticks)))
        {
            if (await TryClaimAsync(uploadName, ct) is { } claim) return claim;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"upload '{uploadName}' stayed claimed by another labeller for {LeaseTime.TotalSeconds + 5:0} s");
            await Task.Delay(pause, ct);
        }
    }
}

/// <summary>A held claim; disposing releases it at once (deletes the claim blob under its lease).</summary>
public sealed class UploadClaim(Azure.Storage.Blobs.BlobClient blob, BlobLeaseClient lease) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        try { await blob.DeleteAsync(conditions: new BlobRequestConditions { LeaseId = lease.LeaseId }); }
        catch (RequestFailedException) { } // the lease ran out and another labeller took it: the claim is theirs now
    }
}
