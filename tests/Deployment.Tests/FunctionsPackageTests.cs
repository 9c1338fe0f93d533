using System.Diagnostics;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using Flowers.Featurize;

namespace Flowers.Deployment.Tests;

/// <summary>
/// `dotnet publish src/Functions`, as azd deploy runs it, once for the class into a folder of its own
/// (--artifacts-path, so the repository's bin/ and obj/ are left alone).
/// </summary>
public sealed class PublishedFunctionsApp : IDisposable
{
    public const long CeilingBytes = 150L << 20;

    private readonly string _root = Directory.CreateTempSubdirectory("flowers-publish-").FullName;
    public string Folder => Path.Combine(_root, "package");

    public PublishedFunctionsApp()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Repository.PathOf("src/Functions/Flowers.Functions.csproj"), "-c", "Release", "-o", Folder,
                             "--artifacts-path", Path.Combine(_root, "artifacts"), "-nologo" },
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{output.Result}\n{error.Result}");
    }

    public IEnumerable<string> Files => Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Folder, f).Replace('\\', '/'));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Issue 17: the package Flex Consumption runs holds what it needs, for linux-x64 only, under a size ceiling.</summary>
public class FunctionsPackageTests(PublishedFunctionsApp app) : IClassFixture<PublishedFunctionsApp>
{
    [Fact]
    public void The_package_has_what_the_Functions_host_and_the_pipeline_load()
    {
        var files = app.Files.ToHashSet();
        foreach (var required in new[] { "functions.metadata", "worker.config.json", "host.json", "Flowers.Functions.dll", "Flowers.Core.dll",
                     "Flowers.Functions.runtimeconfig.json", "libonnxruntime.so", "libSkiaSharp.so", "lib_lightgbm.so",
                     "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx" })
            Assert.True(files.Contains(required), $"the package lacks {required}");
        Assert.Contains(files, f => f.StartsWith(".azurefunctions/", StringComparison.Ordinal) && f.EndsWith(".dll", StringComparison.Ordinal));
        Assert.Single(files, f => f.StartsWith("DnnImageModels/prepared/", StringComparison.Ordinal) && f.EndsWith(".onnx", StringComparison.Ordinal));
    }

    [Fact]
    public void The_package_is_linux_x64_framework_dependent_and_precompiled()
    {
        var files = app.Files.ToList();
        Assert.DoesNotContain(files, f => f.StartsWith("runtimes/", StringComparison.Ordinal)); // no other platforms' natives
        Assert.DoesNotContain(files, f => f.EndsWith(".dylib", StringComparison.Ordinal) || f.EndsWith(".so.dbg", StringComparison.Ordinal)
            || f.EndsWith(".aar", StringComparison.Ordinal) || f.EndsWith(".xcframework.zip", StringComparison.Ordinal));
        // Managed symbols stay (stack traces name lines; 0.2 MB); native libraries' symbols (96 MB for SkiaSharp on Windows) do not.
        Assert.DoesNotContain(files, f => f.EndsWith(".pdb", StringComparison.Ordinal) && Path.GetFileName(f).StartsWith("lib", StringComparison.Ordinal));
        Assert.True(files.Where(f => f.EndsWith(".pdb", StringComparison.Ordinal)).Sum(f => new FileInfo(Path.Combine(app.Folder, f)).Length) < 1 << 20);
        Assert.DoesNotContain("libcoreclr.so", files); // the platform's .NET, not a copy

        var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(app.Folder, "Flowers.Functions.runtimeconfig.json")))!["runtimeOptions"]!;
        Assert.Null(runtimeConfig["includedFrameworks"]);
        Assert.Contains("Microsoft.NETCore.App", runtimeConfig.ToJsonString());

        foreach (var assembly in new[] { "Flowers.Core.dll", "Flowers.Functions.dll", "Microsoft.ML.Data.dll", "Azure.Storage.Blobs.dll" })
        {
            using var pe = new PEReader(File.OpenRead(Path.Combine(app.Folder, assembly)));
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} is not ReadyToRun");
            // ReadyToRun code for Linux x64: the Machine field is Amd64 xor the Linux tag 0x7B79.
            Assert.Equal((ushort)Machine.Amd64 ^ 0x7B79, (ushort)pe.PEHeaders.CoffHeader.Machine);
        }
    }

    [Fact]
    public void The_package_stays_under_its_size_ceiling()
    {
        var bytes = app.Files.Sum(f => new FileInfo(Path.Combine(app.Folder, f)).Length);
        Assert.True(bytes < PublishedFunctionsApp.CeilingBytes, $"the package is {bytes >> 20} MB, over the ceiling of {PublishedFunctionsApp.CeilingBytes >> 20} MB");
    }

    [Fact]
    public void The_Flex_package_has_only_the_Event_Grid_blob_trigger()
    {
        var functions = JsonNode.Parse(File.ReadAllText(Path.Combine(app.Folder, "functions.metadata")))!.AsArray()
            .Select(f => (string)f!["name"]!).ToList();
        Assert.Contains("LabelUploadEventGrid", functions);
        Assert.DoesNotContain("LabelUpload", functions);
        Assert.Contains("StartTraining", functions);
    }

    [Fact]
    public void The_app_carries_one_Durable_Task_SDK_version()
    {
        var versions = Directory.EnumerateFiles(app.Folder, "Microsoft.DurableTask.*.dll")
            .Select(f => (Name: Path.GetFileName(f), Version: FileVersionInfo.GetVersionInfo(f).ProductVersion!.Split('+')[0])).ToList();
        Assert.True(versions.Count >= 4, string.Join(", ", versions));
        Assert.Single(versions.Select(v => v.Version).Distinct());
    }

    [Fact]
    public void The_prepared_network_is_the_one_the_app_would_make_and_other_variants_say_what_is_missing()
    {
        var packaged = Path.Combine(app.Folder, "DnnImageModels");
        Assert.False(File.Exists(ResNet18Model.OnnxPath(packaged)), "the 61 MB original is left out of the package");
        var prepared = ResNet18Model.Load(packaged);
        Assert.Equal(ResNet18Model.Load().OnnxBytes, prepared.OnnxBytes);
        Assert.Equal([64, 128, 256, 512], prepared.StageChannels);

        var missing = Assert.Throws<FileNotFoundException>(() => ResNet18Model.Load(packaged, precision: FeaturePrecision.Float32));
        Assert.Contains("PackageFullNetwork", missing.Message);
    }
}
