namespace Flowers.Tests.Featurize;

/// <summary>The real photos (../shared/datasets/flowers128 beside the repo, or FLOWERS_DATASET_DIR) when present.</summary>
static class Flowers128
{
    public static readonly string? Directory = Locate();

    public const string Missing =
        "flowers128 not found: set FLOWERS_DATASET_DIR or place it at ../shared/datasets/flowers128 beside the repo";

    /// <summary>The first <paramref name="perClass"/> photos of each class (sorted by name), as (class, path).</summary>
    public static IReadOnlyList<(string Class, string Path)> Photos(int perClass, int skip = 0) =>
        Directory is null ? [] :
        System.IO.Directory.GetDirectories(Directory).Order(StringComparer.Ordinal)
            .SelectMany(d => System.IO.Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).Skip(skip).Take(perClass)
                .Select(f => (System.IO.Path.GetFileName(d), f)))
            .ToList();

    static string? Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR");
        if (!string.IsNullOrEmpty(fromEnv) && System.IO.Directory.Exists(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Flowers.sln"))) continue;
            // ../shared beside the repo; a git worktree sits one level deeper than its main repo.
            for (var above = dir.Parent; above is not null && above != dir.Root; above = above.Parent)
            {
                var candidate = Path.Combine(above.FullName, "shared", "datasets", "flowers128");
                if (System.IO.Directory.Exists(candidate)) return candidate;
            }
            return null;
        }
        return null;
    }
}
