using System.Security.Cryptography;

namespace Flowers.LocalHost;

/// <summary>
/// The local host's function key: FLOWERS_FUNCTION_KEY when set, else one generated on first use and kept
/// in .flowers/function.key (readable by the owner only, never committed: each clone has its own), so the CLI and
/// curl can find it.
/// </summary>
public static class FunctionKey
{
    public const string EnvironmentVariable = "FLOWERS_FUNCTION_KEY";

    public static string LoadOrCreate(string repositoryRoot)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return !string.IsNullOrWhiteSpace(fromEnvironment) ? fromEnvironment.Trim()
                : throw new InvalidOperationException($"{EnvironmentVariable} holds only white space: set a key, or unset it to use a generated one.");
        var path = PathIn(repositoryRoot);
        if (File.Exists(path))
            // An empty key would let `?code=` through.
            return File.ReadAllText(path).Trim() is { Length: > 0 } kept ? kept
                : throw new InvalidOperationException($"The function key file {path} is empty: delete it and a new key is generated.");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)).Replace('+', '-').Replace('/', '_');
        File.WriteAllText(path, key);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }

    public static string PathIn(string repositoryRoot) => Path.Combine(repositoryRoot, ".flowers", "function.key");
}
