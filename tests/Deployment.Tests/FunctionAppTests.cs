using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Flowers.Storage;

namespace Flowers.Deployment.Tests;

/// <summary>
/// What infra/ deploys, read from the compiled ARM JSON, agrees with what the code expects: the storage
/// contract in src/Core/Storage/StorageNames.cs, host.json, the project's .NET version.
/// </summary>
[Collection(CompiledInfraCollection.Name)]
public class FunctionAppTests(CompiledInfra infra)
{
    private static class Roles
    {
        public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
        public const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
        public const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
        public const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
        public const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    }

    private ArmTemplate App => infra.Main.Declaring("Microsoft.Web/sites");

    private JsonObject AppSettings
    {
        get
        {
            var settings = App.ResourcesOfType("Microsoft.Web/sites/config")
                .Single(config => ArmTemplate.Text(config["name"])!.Contains("'appsettings'"));
            return App.Resolve(settings["properties"])!.AsObject();
        }
    }

    private static string? Setting(JsonObject settings, string name) =>
        settings.TryGetPropertyValue(name, out var value) ? ArmTemplate.Text(value) : null;

    [SkippableFact]
    public void Storage_is_reached_with_the_managed_identity_under_the_StorageNames_connection_prefix()
    {
        var settings = AppSettings;
        var prefix = StorageNames.Connection + "__";

        Assert.Equal("managedidentity", Setting(settings, prefix + "credential"));
        foreach (var part in new[] { "accountName", "clientId", "blobServiceUri", "queueServiceUri", "tableServiceUri" })
            Assert.True(Setting(settings, prefix + part) is { Length: > 0 }, $"app setting {prefix}{part} is missing");
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", Setting(settings, prefix + "clientId"));
        // A plain AzureWebJobsStorage setting would be a connection string, with a key.
        Assert.DoesNotContain(StorageNames.Connection, settings.Select(setting => setting.Key));

        var account = infra.Main.Declaring("Microsoft.Storage/storageAccounts").Resource("Microsoft.Storage/storageAccounts");
        Assert.Equal(false, (bool?)account["properties"]!["allowSharedKeyAccess"]);
        Assert.Equal(false, (bool?)account["properties"]!["allowBlobPublicAccess"]);
    }

    [SkippableFact]
    public void Task_hub_is_the_one_named_in_host_json_and_StorageNames()
    {
        var hostJson = JsonNode.Parse(
            File.ReadAllText(Repository.PathOf("host.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;

        Assert.Equal(StorageNames.TaskHub, hostJson["extensions"]!["durableTask"]!["hubName"]!.GetValue<string>());
        Assert.Equal(StorageNames.TaskHub, Setting(AppSettings, "AzureFunctionsJobHost__extensions__durableTask__hubName"));
    }

    [SkippableFact]
    public void Containers_are_StorageNames_AllContainers_plus_the_package_Flex_Consumption_runs()
    {
        var storage = infra.Main.Declaring("Microsoft.Storage/storageAccounts/blobServices/containers");
        var containers = storage.ResourcesOfType("Microsoft.Storage/storageAccounts/blobServices/containers").ToList();
        var appContainers = containers.Single(container => container["copy"] is not null);
        var packageContainer = containers.Single(container => container["copy"] is null);

        Assert.Contains("parameters('containerNames')", ArmTemplate.Text(appContainers["copy"]!["count"]));
        var names = storage.Parameter("containerNames")!.AsArray().Select(ArmTemplate.Text).ToList();
        Assert.Equal(StorageNames.AllContainers.Order(), names.Order());

        Assert.Contains("parameters('packageContainerName')", ArmTemplate.Text(packageContainer["name"]));
        var package = ArmTemplate.Text(storage.Parameter("packageContainerName"));
        Assert.DoesNotContain(package, StorageNames.AllContainers);
        var deployment = App.Resource("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!;
        Assert.EndsWith("parameters('packageContainerName'))]", ArmTemplate.Text(deployment["value"]));
        Assert.Equal(package, ArmTemplate.Text(App.Parameter("packageContainerName")));
        Assert.Equal("UserAssignedIdentity", ArmTemplate.Text(deployment["authentication"]!["type"]));
    }

    [SkippableFact]
    public void Labelling_is_fed_by_event_grid_blob_events_from_the_uploads_container()
    {
        Assert.Equal("true", Setting(AppSettings, "AzureWebJobs.LabelUpload.Disabled"));
        Assert.Equal(StorageNames.Uploads, ArmTemplate.Text(infra.Main.Output("UPLOADS_CONTAINER_NAME")));
        Assert.Equal(FunctionNames.Labelling, ArmTemplate.Text(infra.Main.Output("LABELLING_FUNCTION_NAME")));

        var events = infra.Main.Declaring("Microsoft.EventGrid/systemTopics");
        var topic = events.Resource("Microsoft.EventGrid/systemTopics")["properties"]!;
        Assert.Equal("Microsoft.Storage.StorageAccounts", ArmTemplate.Text(topic["topicType"]));
        Assert.Contains("Microsoft.Storage/storageAccounts", ArmTemplate.Text(topic["source"]));
        Assert.Equal(
            ArmTemplate.Text(infra.Main.Declaring("Microsoft.Storage/storageAccounts").Parameter("name")),
            ArmTemplate.Text(events.Parameter("storageAccountName")));
    }

    [SkippableFact]
    public void App_runs_the_projects_dotnet_version_isolated_on_a_flex_consumption_plan()
    {
        var plan = App.Resource("Microsoft.Web/serverfarms");
        var site = App.Resource("Microsoft.Web/sites");
        var config = App.Resolve(site["properties"]!["functionAppConfig"])!;

        Assert.Equal("FlexConsumption", ArmTemplate.Text(plan["sku"]!["tier"]));
        Assert.Equal("FC1", ArmTemplate.Text(plan["sku"]!["name"]));
        Assert.True(plan["properties"]!["reserved"]!.GetValue<bool>(), "Flex Consumption is Linux-only: reserved must be true");
        Assert.Equal("dotnet-isolated", ArmTemplate.Text(config["runtime"]!["name"]));
        Assert.Equal(ProjectDotnetVersion(), ArmTemplate.Text(config["runtime"]!["version"]));
        Assert.Equal(2048, config["scaleAndConcurrency"]!["instanceMemoryMB"]!.GetValue<int>());
        // Flex Consumption rejects the settings other plans use to pick the runtime and package.
        foreach (var refused in new[] { "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE" })
            Assert.DoesNotContain(refused, AppSettings.Select(setting => setting.Key));
    }

    [SkippableFact]
    public void Telemetry_goes_to_application_insights_with_entra_auth_only()
    {
        var monitoring = infra.Main.Declaring("Microsoft.Insights/components");
        var insights = monitoring.Resource("Microsoft.Insights/components")["properties"]!;
        var settings = AppSettings;

        Assert.True(insights["DisableLocalAuth"]!.GetValue<bool>());
        Assert.Contains("Microsoft.OperationalInsights/workspaces", ArmTemplate.Text(insights["WorkspaceResourceId"]));
        // The names the worker's exporter reads (Flowers.Functions.TelemetrySetup), as the Functions host does.
        Assert.Contains("Microsoft.Insights/components", Setting(settings, Flowers.Functions.TelemetrySetup.ConnectionStringSetting));
        var authentication = Setting(settings, Flowers.Functions.TelemetrySetup.AuthenticationStringSetting);
        Assert.StartsWith("[format('ClientId={0};Authorization=AAD'", authentication);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", authentication);
    }

    [SkippableFact]
    public void App_identity_holds_the_roles_the_host_task_hub_and_telemetry_need()
    {
        var access = infra.Main.Declaring("Microsoft.Authorization/roleAssignments");
        var grants = access.ResourcesOfType("Microsoft.Authorization/roleAssignments")
            .SelectMany(assignment => access.VariableValuesIn(ArmTemplate.Text(assignment["properties"]!["roleDefinitionId"])!)
                .Select(role => (
                    Role: role,
                    Scope: ArmTemplate.Text(assignment["scope"])!,
                    ToApp: ArmTemplate.Text(assignment["properties"]!["principalId"])!.Contains("userAssignedIdentities"))))
            .ToList();

        string[] Granted(string scopeType, bool toApp) =>
            grants.Where(g => g.ToApp == toApp && g.Scope.Contains(scopeType)).Select(g => g.Role).Order().ToArray();

        Assert.Equal(
            new[] { Roles.StorageBlobDataOwner, Roles.StorageQueueDataContributor, Roles.StorageTableDataContributor }.Order(),
            Granted("Microsoft.Storage/storageAccounts", toApp: true));
        Assert.Equal([Roles.MonitoringMetricsPublisher], Granted("Microsoft.Insights/components", toApp: true));
        Assert.Equal([Roles.StorageBlobDataContributor], Granted("Microsoft.Storage/storageAccounts", toApp: false));
    }

    /// <summary>"10.0" for net10.0: the runtime version Flex Consumption expects for the target framework.</summary>
    private static string ProjectDotnetVersion()
    {
        var framework = new[] { "src/Functions/Flowers.Functions.csproj", "Directory.Build.props" }
            .Select(file => XDocument.Load(Repository.PathOf(file)).Descendants("TargetFramework").FirstOrDefault()?.Value)
            .First(value => value is not null)!;
        Assert.Matches(@"^net\d+\.\d+$", framework);
        return framework["net".Length..];
    }
}
