namespace Flowers.Tests.Acquire;

/// <summary>Finds the shared 128 px flowers data set: $FLOWERS_DATASET_DIR, else shared/datasets/flowers128 beside the repository (or beside a folder above it).</summary>
public static class RealFlowers
{
    public const string SkipReason =
        "Real photos not found: set FLOWERS_DATASET_DIR or place them at ../shared/datasets/flowers128 relative to the repository.";

    public static string? Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return Directory.Exists(fromEnvironment) ? fromEnvironment : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "datasets", "flowers128");
            if (Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
