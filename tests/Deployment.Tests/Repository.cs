namespace Flowers.Deployment.Tests;

/// <summary>Paths in the checked-out repository, found from the test assembly's location.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relativePath) =>
        Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No Flowers.sln above {AppContext.BaseDirectory}");
    }
}
