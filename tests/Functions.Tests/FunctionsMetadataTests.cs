using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flowers.Storage;

namespace Flowers.Functions.Tests;

/// <summary>
/// The Functions host indexes the app from the functions.metadata the SDK writes at build time; the host
/// cannot run here, so these tests read that file and hold every binding to what the app promises
/// (routes, methods, auth levels, blob paths, connections) and to the names infra/ uses.
/// </summary>
public class FunctionsMetadataTests
{
    private static readonly string Output = FunctionsOutput();

    private static string FunctionsOutput()
    {
        var configuration = typeof(FunctionsMetadataTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln")))
                return Path.Combine(dir.FullName, "src", "Functions", "bin", configuration, "net10.0");
        throw new DirectoryNotFoundException("no Flowers.sln above the test output");
    }

    private static Dictionary<string, JsonObject> Functions()
    {
        var path = Path.Combine(Output, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: build src/Functions first");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray()
            .Select(f => f!.AsObject())
            .ToDictionary(f => (string)f["name"]!);
    }

    private static JsonObject Trigger(JsonObject function) =>
        function["bindings"]!.AsArray().Select(b => b!.AsObject()).Single(b => ((string)b["type"]!).EndsWith("Trigger", StringComparison.Ordinal));

    private static string? Text(JsonObject binding, string name) =>
        binding.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.ToString();

    [Fact]
    public void The_app_has_exactly_the_agreed_functions()
    {
        string[] expected =
        [
            "Health", "StartTraining", "GetTrainingStatus", "GetCurrentModel", "GetModel", "GetModelReport", "TrainingOrchestrator",
            "Ingest", "FindFeaturizedShards", "FeaturizeShard", "TrainAndEvaluate", "Publish", "LabelPendingUploads", "LabelUpload", "LabelUploadEventGrid",
        ];
        Assert.Equal(expected.Order(), Functions().Keys.Order());
    }

    [Theory]
    [InlineData("Health", "anonymous", "get", "health", false)]
    [InlineData("StartTraining", "function", "post", "training", true)]
    [InlineData("GetTrainingStatus", "function", "get", "training/{id}", true)]
    [InlineData("GetCurrentModel", "function", "get", "models/current", false)]
    [InlineData("GetModel", "function", "get", "models/{id}", false)]
    [InlineData("GetModelReport", "function", "get", "models/{id}/report/{file?}", false)]
    public void Http_functions_have_their_route_method_and_auth_level(string name, string authLevel, string method, string route, bool durableClient)
    {
        var function = Functions()[name];
        var trigger = Trigger(function);
        Assert.Equal("httpTrigger", Text(trigger, "type"));
        Assert.Equal(authLevel, Text(trigger, "authLevel"), ignoreCase: true);
        Assert.Equal(route, Text(trigger, "route"));
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => m!.ToString().ToLowerInvariant()));
        var bindings = function["bindings"]!.AsArray().Select(b => Text(b!.AsObject(), "type")).ToList();
        Assert.Equal(durableClient, bindings.Contains("durableClient"));
    }

    [Fact]
    public void The_orchestrator_and_activities_have_durable_triggers()
    {
        var functions = Functions();
        Assert.Equal("orchestrationTrigger", Text(Trigger(functions["TrainingOrchestrator"]), "type"));
        foreach (var activity in new[] { "Ingest", "FindFeaturizedShards", "FeaturizeShard", "TrainAndEvaluate", "Publish", "LabelPendingUploads" })
            Assert.Equal("activityTrigger", Text(Trigger(functions[activity]), "type"));
    }

    [Theory]
    [InlineData("LabelUpload", null)]
    [InlineData("LabelUploadEventGrid", "EventGrid")]
    public void Labelling_functions_watch_the_uploads_container(string name, string? source)
    {
        var trigger = Trigger(Functions()[name]);
        Assert.Equal("blobTrigger", Text(trigger, "type"));
        Assert.Equal($"{StorageNames.Uploads}/{{name}}", Text(trigger, "path"));
        Assert.Equal(StorageNames.Connection, Text(trigger, "connection"));
        if (source is null) Assert.NotEqual("EventGrid", Text(trigger, "source"));
        else Assert.Equal(source, Text(trigger, "source"));
    }

    [Fact]
    public void Host_json_in_the_output_names_the_task_hub_and_limits_concurrency()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "host.json")))!;
        Assert.Equal("2.0", (string)host["version"]!);
        var durable = host["extensions"]!["durableTask"]!;
        Assert.Equal(StorageNames.TaskHub, (string)durable["hubName"]!);
        Assert.InRange((int)durable["maxConcurrentActivityFunctions"]!, 1, 4);
        var blobs = host["extensions"]!["blobs"]!;
        Assert.InRange((int)blobs["maxDegreeOfParallelism"]!, 1, 8);
        Assert.InRange((int)blobs["poisonBlobThreshold"]!, 1, 5);
    }

    [Fact]
    public void Host_json_in_the_output_sends_opentelemetry_and_keeps_successful_requests()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "host.json")))!;
        Assert.Equal("OpenTelemetry", (string?)host["telemetryMode"]);
        // "Error" here would drop every successful invocation's request record (and so its duration and count).
        var results = (string?)host["logging"]?["logLevel"]?["Host.Results"];
        Assert.True(results is null or "Information" or "Trace" or "Debug", $"Host.Results is {results}: successful requests are filtered out");
    }

    [Fact]
    public void Local_settings_example_runs_on_azurite_with_the_polling_trigger()
    {
        var root = Path.GetFullPath(Path.Combine(Output, "..", "..", "..", "..", ".."));
        var values = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "src", "Functions", "local.settings.example.json")))!["Values"]!;
        Assert.Equal("UseDevelopmentStorage=true", (string)values[StorageNames.Connection]!);
        Assert.Equal("dotnet-isolated", (string)values["FUNCTIONS_WORKER_RUNTIME"]!);
        Assert.Equal("true", (string)values["AzureWebJobs.LabelUploadEventGrid.Disabled"]!);
        Assert.Null(values["AzureWebJobs.LabelUpload.Disabled"]);
    }

    [Fact]
    public void Worker_config_and_extensions_are_in_the_output()
    {
        Assert.True(File.Exists(Path.Combine(Output, "worker.config.json")));
        var extensions = JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "extensions.json")))!["extensions"]!.AsArray()
            .Select(e => (string)e!["name"]!).ToList();
        Assert.Contains(extensions, e => e.Contains("DurableTask", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(extensions, e => e.Contains("Blobs", StringComparison.OrdinalIgnoreCase) || e.Contains("Storage", StringComparison.OrdinalIgnoreCase));
    }
}
