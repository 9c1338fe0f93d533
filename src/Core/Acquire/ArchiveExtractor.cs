using SharpCompress.Archives;
using SharpCompress.Common;
using SharpCompress.Readers;

namespace Flowers.Acquire;

/// <summary>Limits that an archive must stay within to be extracted.</summary>
public sealed record ArchiveLimits(long MaxArchiveBytes, long MaxExtractedBytes, long MaxEntryBytes, int MaxEntries)
{
    public static ArchiveLimits From(AcquireOptions o) => new(o.MaxArchiveBytes, o.MaxExtractedBytes, o.MaxEntryBytes, o.MaxEntries);
}

/// <summary>
/// Extracts a .tar(.gz/.bz2/.xz) or .zip archive with SharpCompress, refusing (with the entry's name) anything that
/// could write outside the destination or fill the disk: absolute paths, "..", symbolic and hard links,
/// entries, totals or entry counts past the limits. Sizes are counted while copying, never trusted from headers.
/// </summary>
public static class ArchiveExtractor
{
    private const int UnixFileTypeMask = 0xF000, UnixSymbolicLink = 0xA000;

    /// <summary>Extracts <paramref name="archivePath"/> into <paramref name="destination"/> (created; should be new and empty).</summary>
    /// <exception cref="UnsafeArchiveException">An entry breaks a rule; the caller should discard <paramref name="destination"/>.</exception>
    /// <exception cref="DatasetUnavailableException">The file is no tar or zip archive.</exception>
    public static void Extract(string archivePath, string destination, ArchiveLimits limits,
        IProgress<AcquireProgress>? progress = null, CancellationToken ct = default)
    {
        var archiveBytes = new FileInfo(archivePath).Length;
        if (archiveBytes > limits.MaxArchiveBytes)
            throw new UnsafeArchiveException(archivePath, Path.GetFileName(archivePath),
                $"is {archiveBytes:N0} bytes, more than the limit of {limits.MaxArchiveBytes:N0}");

        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var state = new ExtractionState(archivePath, root, limits, progress, ct);

        if (IsZip(archivePath))
        {
            // The archive API reads the central directory, which carries the unix mode (symbolic links); the streaming
            // reader sees only local headers without it.
            using var zip = ArchiveFactory.OpenArchive(archivePath, new ReaderOptions());
            foreach (var entry in zip.Entries)
            {
                var mode = entry.Attrib is int attrib ? (attrib >>> 16) & UnixFileTypeMask : 0;
                if (mode == UnixSymbolicLink)
                    throw new UnsafeArchiveException(archivePath, entry.Key ?? "", "is a symbolic link; links are not allowed in a data set archive");
                state.Add(entry, entry.OpenEntryStream);
            }
        }
        else
        {
            IReader reader;
            try
            {
                reader = ReaderFactory.OpenReader(archivePath, new ReaderOptions());
            }
            catch (Exception e) when (e is InvalidOperationException or InvalidFormatException or ArchiveException or IOException)
            {
                throw NotAnArchive(archivePath, e);
            }
            using (reader)
            {
                if (reader.Type != ArchiveType.Tar)
                    throw NotAnArchive(archivePath, null);
                while (reader.MoveToNextEntry())
                    state.Add(reader.Entry, reader.OpenEntryStream);
            }
        }
        progress?.Report(new AcquireProgress(AcquireStage.Extract, state.Entries, state.Entries, archivePath));
    }

    private static DatasetUnavailableException NotAnArchive(string archivePath, Exception? inner) =>
        new(archivePath, $"'{archivePath}' is not a folder nor a .tgz, .tar.gz or .zip archive.", inner);

    private static bool IsZip(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4
            && magic[0] == 'P' && magic[1] == 'K' && (magic[2], magic[3]) is (3, 4) or (5, 6);
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

        public void Add(IEntry entry, Func<Stream> open)
        {
            ct.ThrowIfCancellationRequested();
            var key = entry.Key ?? "";
            if (++Entries > limits.MaxEntries)
                throw new UnsafeArchiveException(archive, key, $"is past the limit of {limits.MaxEntries:N0} entries per archive");
            var relative = RelativePathOrNull(key, out var reason);
            if (relative is null)
                throw new UnsafeArchiveException(archive, key, reason);
            if (!string.IsNullOrEmpty(entry.LinkTarget))
                throw new UnsafeArchiveException(archive, key, $"is a link (to '{entry.LinkTarget}'); symbolic and hard links are not allowed in a data set archive");
            if (relative.Length == 0)
                return;   // "./" itself

            var target = Path.GetFullPath(Path.Combine(root, relative));
            if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new UnsafeArchiveException(archive, key, "resolves outside the extraction folder");

            if (entry.IsDirectory)
            {
                Directory.CreateDirectory(target);
                return;
            }
            if (entry.Size > limits.MaxEntryBytes)
                throw TooBig(key);
            if (_totalBytes + Math.Max(0, entry.Size) > limits.MaxExtractedBytes)
                throw TooMuch(key);

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var source = open())
            using (var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                long written = 0;
                int read;
                while ((read = source.Read(_buffer)) > 0)
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

        private UnsafeArchiveException TooMuch(string key) =>
            new(archive, key, $"takes the extracted total past the limit of {limits.MaxExtractedBytes:N0} bytes (a zip bomb?)");
    }
}
