using System.Security.Cryptography;

namespace Flowers.LocalHost;

/// <summary>
/// The local host's function key: FLOWERS_FUNCTION_KEY when set, else one generated on first use and kept
/// in .flowers/function.key (readable by the owner only), so the CLI and curl can find it.
/// </summary>
public static class FunctionKey
{
    public const string EnvironmentVariable = "FLOWERS_FUNCTION_KEY";

    public static string LoadOrCreate(string repositoryRoot)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment) return fromEnvironment;
        var path = PathIn(repositoryRoot);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)).Replace('+', '-').Replace('/', '_');
        File.WriteAllText(path, key);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }

    public static string PathIn(string repositoryRoot) => Path.Combine(repositoryRoot, ".flowers", "function.key");
}
