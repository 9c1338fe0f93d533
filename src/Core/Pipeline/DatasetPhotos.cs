using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Acquire;
using Flowers.Split;
using Flowers.Storage;

namespace Flowers.Pipeline;

/// <summary>
/// Reads a data set's photos from Blob Storage wherever ingest left them: in packs (one read a pack), or one
/// blob a photo as users uploaded them. Photos are named by the manifest's entries.
/// </summary>
public sealed class DatasetPhotos(FlowersStorage storage, TrainingSettings settings)
{
    /// <summary>
    /// Every photo of <paramref name="entries"/> (callers pass one entry a content), handed over as it arrives:
    /// a pack is read front to back by ranges, so photos flow while the rest downloads. A photo
    /// uploaded alone and since deleted is handed to <paramref name="missing"/> with the reason.
    /// </summary>
    /// <exception cref="UnusableDatasetException">A pack is gone or damaged.</exception>
    public Task ReadAllAsync(string dataset, IReadOnlyList<SplitEntry> entries,
        Func<SplitEntry, ReadOnlyMemory<byte>, CancellationToken, ValueTask> arrived, Action<SplitEntry, string> missing, CancellationToken ct)
    {
        return ForEachUnitAsync(entries, async (unit, token) =>
            {
                if (unit[0].Pack is { } pack)
                    await ReadPackAsync(dataset, pack, unit, arrived, bufferSize: 4 << 20, token);
                else
                {
                    var (photo, problem) = await ReadPhotoAsync(dataset, unit[0], token);
                    if (photo is not null) await arrived(unit[0], photo, token);
                    else missing(unit[0], problem!);
                }
            }, ct);
    }

    /// <summary>A few photos by data-set path "{class}/{file}" (a report's), read by small ranges from their packs;
    /// null for one that is no longer there.</summary>
    public async Task<Dictionary<string, byte[]?>> ReadSomeAsync(string dataset, IEnumerable<SplitEntry> entries, CancellationToken ct)
    {
        var photos = new System.Collections.Concurrent.ConcurrentDictionary<string, byte[]?>(StringComparer.Ordinal);
        var byContent = entries.DistinctBy(e => e.Image).GroupBy(e => e.ContentHash, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList());
        await ForEachUnitAsync(byContent.Values.Select(same => same[0]), async (unit, token) =>
            {
                void Found(SplitEntry entry, byte[]? bytes) { foreach (var same in byContent[entry.ContentHash]) photos[same.Image] = bytes; }
                if (unit[0].Pack is { } pack)
                {
                    try
                    {
                        await ReadPackAsync(dataset, pack, unit, (entry, bytes, _) => { Found(entry, bytes.ToArray()); return ValueTask.CompletedTask; },
                            bufferSize: 256 << 10, token);
                    }
                    catch (UnusableDatasetException)
                    {
                        foreach (var entry in unit.Where(e => !photos.ContainsKey(e.Image))) Found(entry, null); // a report does without them
                    }
                }
                else
                    Found(unit[0], (await ReadPhotoAsync(dataset, unit[0], token)).Photo?.ToArray());
            }, ct);
        return new Dictionary<string, byte[]?>(photos, StringComparer.Ordinal);
    }

    /// <summary>The units of transfer, a few at a time: a pack with the entries wanted from it, or a photo of its own.</summary>
    private Task ForEachUnitAsync(IEnumerable<SplitEntry> entries, Func<List<SplitEntry>, CancellationToken, ValueTask> read, CancellationToken ct) =>
        Parallel.ForEachAsync(entries.GroupBy(e => e.Pack ?? "\0" + e.Image, StringComparer.Ordinal).Select(g => g.ToList()),
            new ParallelOptions { MaxDegreeOfParallelism = settings.TransferParallelism, CancellationToken = ct }, read);

    /// <summary>The wanted photos of one pack. A pack that is gone, damaged or lacks a photo it was written with is
    /// a broken data set, not a bad photo: nothing is marked skipped (which a re-run would reuse); the caller fails,
    /// and an ingest from the source writes the pack again.</summary>
    /// <exception cref="UnusableDatasetException">The pack is gone, is not a zip, or lacks a wanted photo.</exception>
    private async Task ReadPackAsync(string dataset, string pack, IReadOnlyList<SplitEntry> entries,
        Func<SplitEntry, ReadOnlyMemory<byte>, CancellationToken, ValueTask> arrived, int bufferSize, CancellationToken ct)
    {
        var blob = storage.Datasets.GetBlobClient(StorageNames.PhotoPackBlob(dataset, pack));
        var where = $"{StorageNames.Datasets}/{blob.Name}";
        const string Remedy = "run the training again with the data set's source to write it again";
        var wanted = entries.ToDictionary(e => e.ContentHash, StringComparer.Ordinal);
        Stream stream;
        try
        {
            stream = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = bufferSize }, ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new UnusableDatasetException($"the pack {where} is gone ({entries.Count} photos of the data set); {Remedy}");
        }
        await using (stream)
        {
            try
            {
                await foreach (var (hash, photo) in PhotoPack.ReadAsync(stream, wanted.Keys.ToHashSet(StringComparer.Ordinal), ct, settings.MaxPhotoBytes))
                {
                    await arrived(wanted[hash], photo, ct);
                    wanted.Remove(hash);
                }
            }
            catch (InvalidDataException e)
            {
                throw new UnusableDatasetException($"the pack {where} is damaged ({e.Message}); delete it and {Remedy}");
            }
        }
        if (wanted.Count > 0)
            throw new UnusableDatasetException($"the pack {where} lacks {wanted.Count} of its photos (first: {wanted.Values.First().Image}); delete it and {Remedy}");
    }

    /// <summary>A photo uploaded alone, or why not: gone, or replaced since ingest by one past the size limit (its
    /// size is checked before its bytes are read).</summary>
    private async Task<(BinaryData? Photo, string? Problem)> ReadPhotoAsync(string dataset, SplitEntry entry, CancellationToken ct)
    {
        var blob = storage.Datasets.GetBlobClient(StorageNames.DatasetPhotoBlob(dataset, entry.Image));
        try
        {
            var download = (await blob.DownloadStreamingAsync(cancellationToken: ct)).Value;
            await using var content = download.Content;
            if (AcquireOptions.TooLargeReason(download.Details.ContentLength, settings.MaxPhotoBytes) is { } tooLarge)
                return (null, tooLarge);
            return (await BinaryData.FromStreamAsync(content, ct), null);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, $"missing from {StorageNames.Datasets}/{blob.Name}");
        }
    }
}
