namespace Flowers.Testing;

/// <summary>The checkout a test runs from: the folder holding Flowers.sln above the test's output folder.</summary>
public static class TestRepository
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Flowers.sln above {AppContext.BaseDirectory}");
    }
}
