namespace Flowers.Pipeline;

/// <summary>
/// Which folders and archives on the host's own disk a training request may name as its source: only hosts that
/// allow local sources at all (the local host), and there only below <see cref="TrainingSettings.LocalSourceRoots"/>,
/// symbolic links resolved, so a request cannot make the host read /etc or another user's files.
/// </summary>
public static class LocalSources
{
    /// <summary>Why <paramref name="path"/> (fully qualified) may not be read, or null when it may.</summary>
    public static string? Problem(string path, TrainingSettings settings)
    {
        if (!settings.AllowLocalSources) return $"'{path}' is a local path, which this host does not allow";
        var roots = settings.LocalSourceFolders();
        var real = RealPath(path);
        if (roots.Any(root => IsBelow(real, RealPath(root)))) return null;
        return $"'{path}'{(real == Path.GetFullPath(path) ? "" : $" (really {real})")} is outside the folders this host reads data sets from "
            + $"({string.Join(", ", roots)}); add its folder to Training__LocalSourceRoots ('{Path.PathSeparator}'-separated)";
    }

    private static bool IsBelow(string path, string root)
    {
        var withSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        return path == root.TrimEnd(Path.DirectorySeparatorChar) || path.StartsWith(withSeparator, StringComparison.Ordinal);
    }

    /// <summary>The path with every symbolic link along it followed (as the file system will when reading it).</summary>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > 40) throw new IOException($"too many levels of symbolic links below '{path}'");
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        foreach (var part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (entry.LinkTarget is { } target)
                next = RealPath(Path.IsPathFullyQualified(target) ? target : Path.Combine(current, target), depth + 1);
            current = next;
        }
        return current.Length > 1 ? current.TrimEnd(Path.DirectorySeparatorChar) : current;
    }
}
