namespace Flowers.Deployment.Tests;

/// <summary>
/// Every .bicep file under infra/ compiled once per test run, with one Bicep process: the tests read
/// the ARM JSON that azd would deploy.
/// </summary>
public sealed class CompiledInfra : IDisposable
{
    public const string Pattern = "infra/**/*.bicep";

    private readonly Lazy<ToolResult> _build;
    private readonly Lazy<ArmTemplate> _main;

    public CompiledInfra()
    {
        OutputDirectory = Directory.CreateTempSubdirectory("flowers-bicep-").FullName;
        _build = new(() => BicepCli.Run(Repository.Root, "build", "--pattern", Pattern, "--outdir", OutputDirectory));
        _main = new(() =>
        {
            var result = Build;
            var path = Path.Combine(OutputDirectory, "main.json");
            Assert.True(result.ExitCode == 0 && File.Exists(path), $"infra/main.bicep did not compile:\n{result}");
            return ArmTemplate.Load(path);
        });
    }

    /// <summary>Where the ARM JSON goes: the same relative paths as the .bicep files under infra/.</summary>
    public string OutputDirectory { get; }

    public ToolResult Build
    {
        get
        {
            BicepCli.SkipUnlessSupported();
            return _build.Value;
        }
    }

    /// <summary>infra/main.bicep as ARM JSON, modules nested in it.</summary>
    public ArmTemplate Main
    {
        get
        {
            BicepCli.SkipUnlessSupported();
            return _main.Value;
        }
    }

    public void Dispose() => Directory.Delete(OutputDirectory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class CompiledInfraCollection : ICollectionFixture<CompiledInfra>
{
    public const string Name = "compiled infra";
}
