using System.Runtime.InteropServices;

namespace Flowers.Deployment.Tests;

/// <summary>
/// The Bicep CLI that restore puts in the NuGet cache (PackageDownload in the project file), so the
/// tests need nothing installed beyond the .NET SDK.
/// </summary>
public static class BicepCli
{
    public const string Version = "0.49.2";
    private const string Package = "azure.bicep.commandline.linux-x64";

    private static readonly Lazy<string> Executable = new(Locate);

    public static void SkipUnlessSupported() =>
        Skip.IfNot(
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && RuntimeInformation.OSArchitecture == Architecture.X64,
            $"The Bicep CLI is restored as {Package}; this machine is {RuntimeInformation.RuntimeIdentifier}.");

    public static ToolResult Run(string workingDirectory, params string[] arguments) =>
        Tool.Run(Executable.Value, arguments, workingDirectory, timeout: TimeSpan.FromMinutes(3));

    /// <summary>Diagnostics (warnings, errors, info) Bicep printed; empty when the files are clean.</summary>
    public static string Diagnostics(ToolResult result) => (result.Output + result.Errors).Trim();

    private static string Locate()
    {
        var path = NuGetCache.File(Package, Version, "tools", "bicep");
        // NuGet extracts the file without the execute bit on some systems.
        if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        return path;
    }
}
