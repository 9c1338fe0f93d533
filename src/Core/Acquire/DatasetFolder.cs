using System.Security.Cryptography;

namespace Flowers.Acquire;

/// <summary>
/// Reads a data set laid out as one folder per class (ImageFolder / flower_photos layout): classes are the
/// sorted names of the top-level sub-folders; a single wrapping folder such as flower_photos/ is looked through.
/// </summary>
public static class DatasetFolder
{
    private const int MaxWrappingFolders = 8;

    /// <param name="maxPhotoBytes">Larger files are skipped unread (<see cref="AcquireOptions.MaxPhotoBytes"/>).</param>
    public static Dataset Scan(string folder, IProgress<AcquireProgress>? progress = null, CancellationToken ct = default,
        long maxPhotoBytes = AcquireOptions.DefaultMaxPhotoBytes)
    {
        var start = Path.GetFullPath(folder);
        if (!Directory.Exists(start))
            throw new DatasetUnavailableException(folder, $"Folder '{folder}' does not exist.");

        var nonImageFiles = 0;
        var skipped = new List<SkippedPhoto>();
        var root = start;
        for (var depth = 0; depth < MaxWrappingFolders; depth++)
        {
            var dirs = VisibleDirectories(root);
            var files = VisibleFiles(root);
            var isWrapper = dirs.Count == 1 && !files.Any(PhotoFormat.HasImageExtension) && VisibleDirectories(dirs[0]).Count > 0;
            if (!isWrapper)
                break;
            nonImageFiles += files.Count;   // e.g. a LICENSE.txt beside the wrapping folder
            root = dirs[0];
        }

        foreach (var file in VisibleFiles(root))
        {
            if (PhotoFormat.HasImageExtension(file))
                skipped.Add(new SkippedPhoto(Path.GetFileName(file), "not inside a class folder, so it has no label"));
            else
                nonImageFiles++;
        }

        var classDirs = VisibleDirectories(root);
        if (classDirs.Count == 0)
            throw new UnusableDatasetException(
                $"No class folders in '{root}': a data set needs one sub-folder per class (e.g. daisy/, roses/), each holding that class's photos.");

        var candidates = new List<(string Class, string Name, string Path)>();
        foreach (var classDir in classDirs)
        {
            var cls = Path.GetFileName(classDir);
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (var file in Directory.EnumerateFiles(classDir, "*", options))
            {
                var name = Path.GetRelativePath(classDir, file).Replace(Path.DirectorySeparatorChar, '/');
                if (name.Split('/').Any(IsHidden))
                    continue;
                if (!PhotoFormat.HasImageExtension(name))
                {
                    nonImageFiles++;
                    continue;
                }
                candidates.Add((cls, name, file));
            }
        }
        candidates.Sort((a, b) =>
        {
            var byClass = string.CompareOrdinal(a.Class, b.Class);
            return byClass != 0 ? byClass : string.CompareOrdinal(a.Name, b.Name);
        });

        var photos = new List<DatasetPhoto>(candidates.Count);
        var header = new byte[PhotoFormat.HeaderLength];
        for (var i = 0; i < candidates.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var (cls, name, path) = candidates[i];
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                if (AcquireOptions.TooLargeReason(stream.Length, maxPhotoBytes) is { } tooLarge)
                {
                    skipped.Add(new SkippedPhoto($"{cls}/{name}", tooLarge));
                    continue;
                }
                var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
                if (PhotoFormat.Detect(header.AsSpan(0, read)) is null)
                {
                    skipped.Add(new SkippedPhoto($"{cls}/{name}", $"not an image: {PhotoFormat.Describe(header.AsSpan(0, read))}"));
                    continue;
                }
                stream.Position = 0;
                var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
                photos.Add(new DatasetPhoto(cls, name, path, hash, stream.Length));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped.Add(new SkippedPhoto($"{cls}/{name}", $"cannot be read: {e.Message}"));
            }
            if (progress is not null && (i % 64 == 63 || i == candidates.Count - 1))
                progress.Report(new AcquireProgress(AcquireStage.Scan, i + 1, candidates.Count, root));
        }

        var classes = classDirs.Select(Path.GetFileName).Select(c => c!).ToList();
        var empty = classes.Where(c => !photos.Any(p => p.Class == c)).ToList();
        if (empty.Count > 0)
            throw new UnusableDatasetException(
                $"Class folder{(empty.Count > 1 ? "s" : "")} {string.Join(", ", empty.Select(c => $"'{c}'"))} in '{root}' hold{(empty.Count > 1 ? "" : "s")} no photos "
                + "(JPEG, PNG, WebP, BMP or GIF). Remove the folder or add photos.");
        if (classes.Count == 1)
            throw new UnusableDatasetException(
                $"Only one class ('{classes[0]}') in '{root}': a classifier needs at least two class folders.");

        return new Dataset(root, classes, photos, skipped, nonImageFiles);
    }

    /// <summary>Hidden files and folders (.DS_Store, ._resource forks, .git) and macOS archive debris.</summary>
    private static bool IsHidden(string name) => name.StartsWith('.') || name == "__MACOSX";

    private static List<string> VisibleDirectories(string folder) =>
        Directory.EnumerateDirectories(folder).Where(d => !IsHidden(Path.GetFileName(d))).Order(StringComparer.Ordinal).ToList();

    private static List<string> VisibleFiles(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => !IsHidden(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList();
}
