using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flowers.Deployment.Tests;

/// <summary>
/// CI's Bicep gate: every file compiles and lints with nothing to report. infra/bicepconfig.json makes
/// linter findings errors; compiler warnings (e.g. BCP089, a misspelt property that ARM would ignore)
/// cannot be raised to errors by configuration, so the tests also require Bicep's output to be empty.
/// </summary>
[Collection(CompiledInfraCollection.Name)]
public class BicepBuildTests(CompiledInfra infra)
{
    [SkippableFact]
    public void Every_bicep_file_compiles_without_a_diagnostic()
    {
        var result = infra.Build;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(BicepCli.Diagnostics(result) == "", $"Bicep reported diagnostics:\n{result}");
        var sources = InfraBicepFiles();
        Assert.Contains("main.bicep", sources);
        foreach (var source in sources)
            Assert.True(File.Exists(Path.Combine(infra.OutputDirectory, Path.ChangeExtension(source, ".json"))),
                $"infra/{source} produced no ARM JSON");
    }

    [SkippableFact]
    public void Every_bicep_file_lints_without_a_diagnostic()
    {
        BicepCli.SkipUnlessSupported();

        var result = BicepCli.Run(Repository.Root, "lint", "--pattern", CompiledInfra.Pattern);

        Assert.True(result.ExitCode == 0 && BicepCli.Diagnostics(result) == "", result.ToString());
    }

    [SkippableFact]
    public void Broken_bicep_files_fail_the_same_check()
    {
        BicepCli.SkipUnlessSupported();
        var scratch = Directory.CreateTempSubdirectory("flowers-bicep-broken-").FullName;
        try
        {
            File.Copy(Repository.PathOf("infra/bicepconfig.json"), Path.Combine(scratch, "bicepconfig.json"));
            // A misspelt property: only a compiler warning, and ARM would quietly keep shared keys on.
            File.WriteAllText(Path.Combine(scratch, "misspelt.bicep"), """
                param location string

                resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
                  name: 'stbroken'
                  location: location
                  kind: 'StorageV2'
                  sku: { name: 'Standard_LRS' }
                  properties: {
                    allowSharedKeyAcess: false
                  }
                }
                """);
            // A linter finding, an error through bicepconfig.json.
            File.WriteAllText(Path.Combine(scratch, "unused.bicep"), """
                param location string
                param forgotten string

                output where string = location
                """);

            var result = BicepCli.Run(scratch, "build", "--pattern", "*.bicep", "--outdir", Path.Combine(scratch, "out"));

            // The misspelling compiles (ARM JSON is written) with a warning only: the exit code alone
            // would let it through, the empty-output rule does not.
            Assert.True(File.Exists(Path.Combine(scratch, "out", "misspelt.json")), result.ToString());
            Assert.Contains("misspelt.bicep(9,5) : Warning BCP089", result.Errors);
            Assert.False(File.Exists(Path.Combine(scratch, "out", "unused.json")), result.ToString());
            Assert.Contains("unused.bicep(2,7) : Error no-unused-params", result.Errors);
            Assert.NotEqual(0, result.ExitCode);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public void Bicep_config_makes_every_listed_linter_rule_an_error()
    {
        var config = JsonNode.Parse(
            File.ReadAllText(Repository.PathOf("infra/bicepconfig.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        var core = config["analyzers"]!["core"]!;
        var rules = core["rules"]!.AsObject();

        Assert.True(core["enabled"]!.GetValue<bool>());
        Assert.Contains("no-unused-params", rules.Select(rule => rule.Key));
        Assert.All(rules, rule => Assert.Equal("error", rule.Value!["level"]!.GetValue<string>()));
    }

    private static List<string> InfraBicepFiles()
    {
        var infraDirectory = Repository.PathOf("infra");
        return Directory.EnumerateFiles(infraDirectory, "*.bicep", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(infraDirectory, path))
            .ToList();
    }
}
