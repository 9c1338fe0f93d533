using System.Reflection;
using System.Text.Json.Nodes;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Deployment.Tests;

/// <summary>
/// The blob-triggered functions in src/Functions (read from the compiled app) can run on Flex
/// Consumption as deployed: there, blob triggers fire only through Event Grid, and Event Grid is
/// subscribed for exactly one function, the one main.bicep names.
/// </summary>
[Collection(CompiledInfraCollection.Name)]
public class BlobTriggerTests(CompiledInfra infra)
{
    private static readonly Assembly FunctionsApp = Assembly.Load("Flowers.Functions");

    private static List<(string Name, BlobTriggerAttribute Trigger)> BlobTriggeredFunctions() =>
        FunctionsApp.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance))
            .Select(method => (
                Name: method.GetCustomAttribute<FunctionAttribute>()?.Name,
                Trigger: method.GetParameters().Select(p => p.GetCustomAttribute<BlobTriggerAttribute>()).SingleOrDefault(t => t is not null)))
            .Where(function => function.Name is not null && function.Trigger is not null)
            .Select(function => (function.Name!, function.Trigger!))
            .ToList();

    [SkippableFact]
    public void Labelling_function_has_an_event_grid_blob_trigger_on_uploads()
    {
        var functions = BlobTriggeredFunctions();
        Skip.If(functions.Count == 0, "src/Functions has no blob-triggered function yet.");

        var labelling = functions.Where(f => f.Name == FunctionNames.Labelling).ToList();
        Assert.True(labelling.Count == 1,
            $"Event Grid is subscribed for {FunctionNames.Labelling}, but the blob-triggered functions are: " +
            string.Join(", ", functions.Select(f => f.Name)));
        var trigger = labelling[0].Trigger;
        Assert.Equal(BlobTriggerSource.EventGrid, trigger.Source);
        Assert.StartsWith(StorageNames.Uploads + "/", trigger.BlobPath);
        Assert.True(trigger.Connection is null || trigger.Connection == StorageNames.Connection,
            $"{FunctionNames.Labelling} reads blobs through '{trigger.Connection}', which the app settings do not configure");
    }

    [SkippableFact]
    public void Every_other_blob_trigger_is_disabled_in_azure()
    {
        var functions = BlobTriggeredFunctions();
        Skip.If(functions.Count == 0, "src/Functions has no blob-triggered function yet.");
        var app = infra.Main.Declaring("Microsoft.Web/sites");
        var settings = app.Resolve(app.ResourcesOfType("Microsoft.Web/sites/config").Single()["properties"])!.AsObject();

        foreach (var (name, _) in functions.Where(f => f.Name != FunctionNames.Labelling))
            Assert.True(
                settings.TryGetPropertyValue($"AzureWebJobs.{name}.Disabled", out var disabled) && ArmTemplate.Text(disabled) == "true",
                $"{name} is a blob trigger that Event Grid does not feed on Flex Consumption: " +
                $"set AzureWebJobs.{name}.Disabled: 'true' in infra/modules/function-app.bicep");
    }
}
