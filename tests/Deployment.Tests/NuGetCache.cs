namespace Flowers.Deployment.Tests;

/// <summary>The NuGet global packages folder, where restore puts the tools the tests run.</summary>
public static class NuGetCache
{
    public static string Root =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>A file inside a restored package; fails with what to do when restore has not fetched it.</summary>
    public static string File(string packageId, string version, params string[] pathInPackage)
    {
        var path = Path.Combine([Root, packageId.ToLowerInvariant(), version, .. pathInPackage]);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException(
                $"No {path}: restore tests/Deployment.Tests (its PackageDownload fetches {packageId} {version}).", path);
        return path;
    }
}
