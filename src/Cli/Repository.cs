namespace Flowers.Cli;

/// <summary>The checkout the command runs from: where Azurite, .azurite/ and .flowers/ live.</summary>
public static class Repository
{
    /// <summary>FLOWERS_ROOT (set by ./flowers), else the nearest folder above the current one holding Flowers.sln.</summary>
    public static string Root()
    {
        if (Environment.GetEnvironmentVariable("FLOWERS_ROOT") is { Length: > 0 } root) return root;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln"))) return dir.FullName;
        return Environment.CurrentDirectory;
    }
}
