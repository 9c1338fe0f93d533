using SharpCompress.Archives;
using SharpCompress.Common;
using System.Formats.Tar;
using System.IO.Compression;
using SharpCompress.Readers;

namespace Flowers.Acquire;

/// <summary>Limits that an archive must stay within to be extracted.</summary>
public sealed record ArchiveLimits(long MaxArchiveBytes, long MaxExtractedBytes, long MaxEntryBytes, int MaxEntries)
{
    public static ArchiveLimits From(AcquireOptions o) => new(o.MaxArchiveBytes, o.MaxExtractedBytes, o.MaxEntryBytes, o.MaxEntries);
}

/// <summary>
/// Extracts a .tar, .tgz/.tar.gz or .zip archive (deflate or stored entries), refusing (with the entry's name) anything
/// that could write outside the destination or fill the disk: absolute paths, "..", symbolic and hard links,
/// entries, totals or entry counts past the limits. Sizes are counted while reading, never trusted from headers:
/// every decompressed byte counts against the total, those of entries that are skipped too. Other formats (xz,
/// bzip2, 7z, LZMA...) are refused: the product tests only these, and an xz or LZMA header can declare a
/// multi-GiB dictionary. A damaged archive, or one the reader fails on, is unusable input (not retried).
/// </summary>
public static class ArchiveExtractor
{
    private const int UnixFileTypeMask = 0xF000, UnixSymbolicLink = 0xA000;

    /// <summary>What a user is told the extractor takes.</summary>
    public const string AcceptedFormats = ".tar, .tgz/.tar.gz or .zip (deflate or stored entries)";

    private enum Kind { Zip, Tar, GzipTar }

    /// <summary>Extracts <paramref name="archivePath"/> into <paramref name="destination"/> (created; should be new and empty).</summary>
    /// <exception cref="UnsafeArchiveException">An entry breaks a rule; the caller should discard <paramref name="destination"/>.</exception>
    /// <exception cref="UnusableDatasetException">The file is no archive of an accepted format, or is damaged.</exception>
    public static void Extract(string archivePath, string destination, ArchiveLimits limits,
        IProgress<AcquireProgress>? progress = null, CancellationToken ct = default)
    {
        var archiveBytes = new FileInfo(archivePath).Length;
        if (archiveBytes > limits.MaxArchiveBytes)
            throw new UnsafeArchiveException(archivePath, Path.GetFileName(archivePath),
                $"is {archiveBytes:N0} bytes, more than the limit of {limits.MaxArchiveBytes:N0}");

        var kind = Identify(archivePath);
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var state = new ExtractionState(archivePath, root, limits, progress, ct);

        if (kind == Kind.Zip)
        {
            // The archive API reads the central directory, which carries the unix mode (symbolic links); the streaming
            // reader sees only local headers without it.
            using var zip = Reading(archivePath, () => ArchiveFactory.OpenArchive(archivePath, new ReaderOptions()));
            foreach (var entry in Reading(archivePath, () => zip.Entries.ToList()))
            {
                var key = entry.Key ?? "";
                var mode = entry.Attrib is int attrib ? (attrib >>> 16) & UnixFileTypeMask : 0;
                if (mode == UnixSymbolicLink)
                    throw new UnsafeArchiveException(archivePath, key, "is a symbolic link; links are not allowed in a data set archive");
                if (entry.IsEncrypted)
                    throw new UnsafeArchiveException(archivePath, key, "is encrypted");
                if (!entry.IsDirectory && entry.CompressionType is not (CompressionType.Deflate or CompressionType.None))
                    throw new UnsafeArchiveException(archivePath, key,
                        $"is compressed with {entry.CompressionType}; only deflate or stored zip entries are accepted");
                state.Add(key, entry.LinkTarget, entry.IsDirectory, entry.Size, entry.OpenEntryStream);
            }
        }
        else
        {
            using var file = File.OpenRead(archivePath);
            // Every byte the tar reader takes, headers and skipped data included, passes this count.
            using var counted = new CountingStream(kind == Kind.GzipTar ? new GZipStream(file, CompressionMode.Decompress) : file,
                limits.MaxExtractedBytes, () => state.TooMuch(state.LastEntry ?? "(its first header)"));
            using var tar = new TarReader(counted);
            while (Reading(archivePath, () => tar.GetNextEntry(copyData: false)) is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes)
                    continue;
                if (entry.EntryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo)
                    throw new UnsafeArchiveException(archivePath, entry.Name, "is a device or pipe, not a file");
                var isLink = entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink;
                state.Add(entry.Name, isLink ? entry.LinkName : null, entry.EntryType == TarEntryType.Directory, entry.Length,
                    () => entry.DataStream ?? Stream.Null);
            }
            // Damage can end the tar early or turn it into other names (1 in 15 corrupt .tgz files tried) while the gzip
            // stream only fails at its end: read it to the end, so such an archive is called damaged, not short of classes.
            Reading(archivePath, () => { counted.CopyTo(Stream.Null); return 0; });
        }
        progress?.Report(new AcquireProgress(AcquireStage.Extract, state.Entries, state.Entries, archivePath));
    }

    /// <summary>Why <paramref name="path"/> is not an archive the extractor opens, or null: its format by its first
    /// bytes, and its first entry read (a zip's directory; a tar's first header, decompressed). Cheap: a download is
    /// checked so before it becomes a cache entry.</summary>
    public static string? Check(string path)
    {
        try
        {
            if (Recognise(path, out var problem, out var otherFormat) is not { } kind)
                return otherFormat ? problem : $"is not a {AcceptedFormats} archive ({problem})";
            if (kind == Kind.Zip)
            {
                using var zip = ArchiveFactory.OpenArchive(path, new ReaderOptions());
                _ = zip.Entries.FirstOrDefault();
                return null;
            }
            using var file = File.OpenRead(path);
            using Stream data = kind == Kind.GzipTar ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var tar = new TarReader(data);
            return tar.GetNextEntry(copyData: false) is null ? "is an empty archive" : null;
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            return $"is not a {AcceptedFormats} archive ({e.Message})";
        }
    }

    /// <summary>Runs a read of the archive, turning the reader's failure into unusable input: the same bytes fail
    /// the same way again, so the pipeline must not retry it as a transient fault.</summary>
    private static T Reading<T>(string archivePath, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is not (DatasetException or OperationCanceledException or OutOfMemoryException))
        {
            throw Damaged(archivePath, e);
        }
    }

    private static UnusableDatasetException Damaged(string archivePath, Exception e) =>
        new($"Archive '{Path.GetFileName(archivePath)}' is damaged or not a {AcceptedFormats} archive: {e.Message}", e);

    private static UnusableDatasetException NotAnArchive(string archivePath, string what) =>
        new($"'{archivePath}' is not a folder nor a {AcceptedFormats} archive ({what}). {DatasetUnavailableException.Hint}");

    /// <summary>The format from the first bytes; an archive of another format is refused by name.</summary>
    private static Kind Identify(string path)
    {
        if (Recognise(path, out var problem, out var otherFormat) is { } kind) return kind;
        if (otherFormat)
            throw new UnusableDatasetException($"Archive '{Path.GetFileName(path)}' {problem}. Repack it, e.g. as a .tgz.");
        throw NotAnArchive(path, problem);
    }

    /// <summary>The accepted format of the file, or null with what it is instead ("is an xz archive; only … are
    /// accepted", or "it starts with '&lt;html&gt;…'" when it is no archive at all).</summary>
    private static Kind? Recognise(string path, out string problem, out bool otherFormat)
    {
        var head = new byte[512];
        int read;
        using (var stream = File.OpenRead(path))
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var h = head.AsSpan(0, read);
        problem = "";
        otherFormat = false;
        if (h.StartsWith("PK\u0003\u0004"u8) || h.StartsWith("PK\u0005\u0006"u8)) return Kind.Zip;
        if (h.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B])) return Kind.GzipTar;
        if (read >= 262 && h[257..262].SequenceEqual("ustar"u8)) return Kind.Tar;
        var other = h switch
        {
            _ when h.StartsWith((ReadOnlySpan<byte>)[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) => "an xz",
            _ when h.StartsWith((ReadOnlySpan<byte>)[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) => "a 7z",
            _ when h.StartsWith("BZh"u8) => "a bzip2",
            _ when h.StartsWith("LZIP"u8) => "an lzip",
            _ when h.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]) => "a zstd",
            _ when h.StartsWith("Rar!"u8) => "a RAR",
            _ when h.Length >= 13 && h[0] == 0x5D && h[1] == 0 && h[2] == 0 => "an LZMA",
            _ => null,
        };
        otherFormat = other is not null;
        problem = other is not null ? $"is {other} archive; only {AcceptedFormats} archives are accepted"
            : h.IsEmpty ? "the file is empty" : $"it starts with {Printable(h)}";
        return null;
    }

    /// <summary>The first bytes as text when they are text (an HTML page, an error message), else in hex.</summary>
    internal static string Printable(ReadOnlySpan<byte> head)
    {
        var start = head[..Math.Min(24, head.Length)];
        var printable = true;
        foreach (var b in start) printable &= b is (>= 0x20 and <= 0x7E) or (byte)'\r' or (byte)'\n' or (byte)'\t';
        return printable
            ? $"'{System.Text.Encoding.ASCII.GetString(start).ReplaceLineEndings(" ")}...'"
            : $"the bytes {Convert.ToHexString(start[..Math.Min(8, start.Length)])}";
    }

    /// <summary>Entry names as written inside the destination, or why they must not be.</summary>
    internal static string? RelativePathOrNull(string key, out string reason)
    {
        reason = "";
        if (string.IsNullOrEmpty(key))
        {
            reason = "has an empty name";
            return null;
        }
        if (key.Contains('\0'))
        {
            reason = "has a NUL character in its name";
            return null;
        }
        // Treat '\' as a separator too: archives written on Windows use it, and "..\x" must not slip through.
        var normalized = key.Replace('\\', '/');
        if (normalized.StartsWith('/') || (normalized.Length >= 2 && normalized[1] == ':') || Path.IsPathRooted(key))
        {
            reason = "has an absolute path";
            return null;
        }
        var segments = normalized.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        if (segments.Contains(".."))
        {
            reason = "has '..' in its path, which would write outside the extraction folder";
            return null;
        }
        return segments.Length == 0 ? "" : string.Join(Path.DirectorySeparatorChar, segments);
    }

    private sealed class ExtractionState(string archive, string root, ArchiveLimits limits, IProgress<AcquireProgress>? progress, CancellationToken ct)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private long _totalBytes;

        public int Entries { get; private set; }

        /// <summary>The entry read last: the one whose bytes (read or skipped) took the total past the limit.</summary>
        public string? LastEntry { get; private set; }

        public void Add(string? name, string? linkTarget, bool isDirectory, long size, Func<Stream> open)
        {
            ct.ThrowIfCancellationRequested();
            var key = name ?? "";
            LastEntry = key;
            if (++Entries > limits.MaxEntries)
                throw new UnsafeArchiveException(archive, key, $"is past the limit of {limits.MaxEntries:N0} entries per archive");
            var relative = RelativePathOrNull(key, out var reason);
            if (relative is null)
                throw new UnsafeArchiveException(archive, key, reason);
            if (!string.IsNullOrEmpty(linkTarget))
                throw new UnsafeArchiveException(archive, key, $"is a link (to '{linkTarget}'); symbolic and hard links are not allowed in a data set archive");
            if (relative.Length == 0)
                return;   // "./" itself

            var target = Path.GetFullPath(Path.Combine(root, relative));
            if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new UnsafeArchiveException(archive, key, "resolves outside the extraction folder");

            if (isDirectory)
            {
                Directory.CreateDirectory(target);
                return;
            }
            if (size > limits.MaxEntryBytes)
                throw TooBig(key);
            if (_totalBytes + Math.Max(0, size) > limits.MaxExtractedBytes)
                throw TooMuch(key);

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var source = Reading(archive, open))
            using (var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                long written = 0;
                int read;
                while ((read = Reading(archive, () => source.Read(_buffer))) > 0)
                {
                    written += read;
                    _totalBytes += read;
                    if (written > limits.MaxEntryBytes)
                        throw TooBig(key);
                    if (_totalBytes > limits.MaxExtractedBytes)
                        throw TooMuch(key);
                    output.Write(_buffer, 0, read);
                }
            }
            if (progress is not null && Entries % 64 == 0)
                progress.Report(new AcquireProgress(AcquireStage.Extract, Entries, null, archive));
        }

        private UnsafeArchiveException TooBig(string key) =>
            new(archive, key, $"extracts to more than the limit of {limits.MaxEntryBytes:N0} bytes per entry (a zip bomb?)");

        public UnsafeArchiveException TooMuch(string key) =>
            new(archive, key, $"takes the extracted total past the limit of {limits.MaxExtractedBytes:N0} bytes (a zip bomb?)");
    }

    /// <summary>Counts the bytes read through it and stops past a limit, so that nothing a reader skips goes uncounted.</summary>
    private sealed class CountingStream(Stream inner, long limit, Func<Exception> tooMuch) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        private int Counted(int read)
        {
            _read += read;
            return _read > limit ? throw tooMuch() : read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
