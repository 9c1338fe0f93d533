using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using YamlDotNet.RepresentationModel;

namespace Flowers.Deployment.Tests;

/// <summary>azure.yml, main.parameters.json and the hook scripts fit together with infra/main.bicep.</summary>
[Collection(CompiledInfraCollection.Name)]
public partial class AzdProjectTests(CompiledInfra infra)
{
    /// <summary>Values azd itself puts in every environment, beside the provisioning outputs.</summary>
    private static readonly string[] AzdEnvironmentValues = ["AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_SUBSCRIPTION_ID"];

    private static readonly string[] HookScripts = ["scripts/postdeploy.sh", "scripts/postdeploy.ps1"];

    [Fact]
    public void Azure_yml_deploys_the_functions_project_as_a_dotnet_function_app()
    {
        var service = Assert.Single(Mapping(AzureYml(), "services").Children);
        var settings = (YamlMappingNode)service.Value;

        Assert.Equal("function", Scalar(settings, "host"));
        Assert.Equal("dotnet", Scalar(settings, "language"));
        var project = Path.GetFullPath(Path.Combine(Repository.Root, Scalar(settings, "project")));
        Assert.True(Directory.Exists(project), $"azure.yml points at {project}, which does not exist");
        var projectFile = Assert.Single(Directory.GetFiles(project, "*.csproj"));
        Assert.Equal("Flowers.Functions.csproj", Path.GetFileName(projectFile));
        Assert.Equal("v4", XDocument.Load(projectFile).Descendants("AzureFunctionsVersion").Single().Value);
    }

    [SkippableFact]
    public void Function_app_carries_the_azd_service_name_of_azure_yml()
    {
        var service = Assert.Single(Mapping(AzureYml(), "services").Children);
        var app = infra.Main.Declaring("Microsoft.Web/sites");

        // azd deploys a service to the resource tagged azd-service-name: <service>.
        Assert.Contains("createObject('azd-service-name', parameters('serviceName'))",
            ArmTemplate.Text(app.Resource("Microsoft.Web/sites")["tags"]));
        Assert.Equal(((YamlScalarNode)service.Key).Value, ArmTemplate.Text(app.Parameter("serviceName")));
    }

    [Fact]
    public void Postdeploy_hook_runs_the_event_grid_script_on_every_platform()
    {
        var postdeploy = Mapping(Mapping(AzureYml(), "hooks"), "postdeploy");

        var posix = Mapping(postdeploy, "posix");
        Assert.Equal("sh", Scalar(posix, "shell"));
        Assert.Equal("scripts/postdeploy.sh", Path.GetRelativePath(Repository.Root, Repository.PathOf(Scalar(posix, "run"))));
        var windows = Mapping(postdeploy, "windows");
        Assert.Equal("pwsh", Scalar(windows, "shell"));
        Assert.Equal("scripts/postdeploy.ps1", Path.GetRelativePath(Repository.Root, Repository.PathOf(Scalar(windows, "run"))));
        foreach (var script in HookScripts)
            Assert.True(File.Exists(Repository.PathOf(script)), $"{script} is missing");
    }

    [SkippableFact]
    public void Hook_scripts_read_only_values_that_azd_or_provisioning_provide()
    {
        var provided = infra.Main.OutputNames.Concat(AzdEnvironmentValues).ToHashSet();
        var used = HookScripts.ToDictionary(
            script => script,
            script => EnvironmentName().Matches(File.ReadAllText(Repository.PathOf(script))).Select(m => m.Value).ToHashSet());

        foreach (var (script, names) in used)
            Assert.True(names.IsSubsetOf(provided),
                $"{script} reads {string.Join(", ", names.Except(provided))}, which main.bicep does not output");
        Assert.Equal(used[HookScripts[0]].Order(), used[HookScripts[1]].Order());
        Assert.Contains("LABELLING_FUNCTION_NAME", used[HookScripts[0]]);
    }

    [SkippableFact]
    public void Parameters_file_gives_every_main_bicep_parameter_an_azd_value()
    {
        var file = JsonNode.Parse(File.ReadAllText(Repository.PathOf("infra/main.parameters.json")))!;
        var values = file["parameters"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!["value"]!.GetValue<string>());

        Assert.Equal(infra.Main.ParameterNames.Order(), values.Keys.Order());
        Assert.Equal("${AZURE_ENV_NAME}", values["environmentName"]);
        Assert.Equal("${AZURE_LOCATION}", values["location"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", values["principalId"]);
    }

    private static YamlMappingNode AzureYml()
    {
        var path = Repository.PathOf("azure.yml");
        Assert.True(File.Exists(path), "azure.yml is missing at the repository root");
        var yaml = new YamlStream();
        using var reader = new StreamReader(path);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static YamlMappingNode Mapping(YamlMappingNode node, string key) =>
        Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlMappingNode node, string key) =>
        Assert.IsType<YamlScalarNode>(node.Children[new YamlScalarNode(key)]).Value!;

    [GeneratedRegex(@"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")]
    private static partial Regex EnvironmentName();
}
