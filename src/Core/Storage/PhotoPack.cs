using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace Flowers.Storage;

/// <summary>
/// A pack: the photos of one featurize shard in one blob, a plain (stored, uncompressed) zip whose entries are
/// named by content hash. Ingest writes one pack a shard instead of one blob a photo, because on Blob Storage
/// the cost of a photo is the request, not its bytes: a shard's activity then reads its photos in one request,
/// and a report reads one photo by two ranged reads (a zip's directory says where each entry is).
/// Any unzip tool opens a pack.
/// </summary>
public static class PhotoPack
{
    /// <summary>The pack's key: SHA-256 over its photos' sorted, distinct content hashes (first 32 hex digits), so
    /// the same photos always make the same pack and an ingest that finds it already there uploads nothing.</summary>
    public static string KeyOf(IEnumerable<string> contentHashes) => ContentKey.Of(contentHashes);

    /// <summary>Writes the photos, one entry each ("{content hash}{extension}"), without compressing them (JPEGs do
    /// not shrink, and stored entries cost nothing to read). Each photo stream is disposed once copied. The output
    /// need not be seekable (a blob's write stream).</summary>
    public static async Task WriteAsync(Stream output, IEnumerable<(string ContentHash, string Extension, Stream Photo)> photos, CancellationToken ct = default)
    {
        await using var zip = await ZipArchive.CreateAsync(output, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct);
        foreach (var (hash, extension, photo) in photos)
            await using (photo)
            await using (var entry = await zip.CreateEntry(hash + extension.ToLowerInvariant(), CompressionLevel.NoCompression).OpenAsync(ct))
                await photo.CopyToAsync(entry, ct);
    }

    /// <summary>
    /// The wanted photos of a pack (all when <paramref name="wanted"/> is null), by content hash, in the order
    /// they were written. The stream must be seekable: a download in memory, or a blob read by ranges; a zip is
    /// read from its directory at the end, so only the entries asked for are read. A wanted hash the pack lacks
    /// is simply not returned.
    /// </summary>
    /// <param name="maxPhotoBytes">An entry larger than this is refused before its buffer is allocated (ingest packs
    /// only photos within the limit, so a larger one is a damaged or foreign pack).</param>
    /// <exception cref="InvalidDataException">The stream is not a zip, or an entry is past <paramref name="maxPhotoBytes"/>.</exception>
    public static async IAsyncEnumerable<(string ContentHash, byte[] Photo)> ReadAsync(Stream pack, IReadOnlySet<string>? wanted,
        [EnumeratorCancellation] CancellationToken ct = default, long maxPhotoBytes = Acquire.AcquireOptions.DefaultMaxPhotoBytes)
    {
        await using var zip = await ZipArchive.CreateAsync(pack, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, ct);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            var hash = Path.GetFileNameWithoutExtension(entry.FullName);
            if (wanted is not null && !wanted.Contains(hash) || !seen.Add(hash)) continue;
            if (entry.Length > maxPhotoBytes)
                throw new InvalidDataException($"its entry {entry.FullName} is {entry.Length:N0} bytes, more than the limit of {maxPhotoBytes:N0} a photo");
            var bytes = new byte[entry.Length];
            await using (var data = await entry.OpenAsync(ct))
                await data.ReadExactlyAsync(bytes, ct);
            yield return (hash, bytes);
        }
    }
}
