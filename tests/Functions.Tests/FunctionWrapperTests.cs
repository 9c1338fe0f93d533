using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Azure.Storage.Blobs;
using Flowers.Functions.Tests.Invocation;
using Flowers.Pipeline;
using Flowers.Pipeline.Tests;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Functions.Tests;

/// <summary>
/// src/Functions' classes as the Functions host would call them: the app's services on an Azurite of their own, a real
/// Durable Task worker (the in-process test host) whose orchestrator and activities are the app's trigger methods, and
/// each HTTP and blob trigger called with request data, the durable client and a blob client.
/// </summary>
public sealed class WrapperHost : IAsyncLifetime
{
    public Flowers.LocalHost.Azurite Azurite { get; private set; } = null!;
    public ServiceProvider Services { get; private set; } = null!;
    public DurableTaskTestHost Durable { get; private set; } = null!;
    public DurableTaskClient Client => Durable.Client;
    public BlobServiceClient Blobs => Services.GetRequiredService<BlobServiceClient>();

    /// <summary>How often each trigger method ran, by function name.</summary>
    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public T Create<T>() => ActivatorUtilities.CreateInstance<T>(Services);

    private Task<TOut> Called<TOut>(string name, Func<Task<TOut>> run)
    {
        Calls.AddOrUpdate(name, 1, (_, n) => n + 1);
        return run();
    }

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, new StorageTraffic());
        var none = CancellationToken.None;
        Durable = await DurableTaskTestHost.StartAsync(registry => registry
                // Declared with its input type, as the Functions host's orchestration trigger reads it for GetInput.
                .AddOrchestratorFunc<TrainingRequest, TrainingOutcome>(TrainingOrchestration.Name,
                    (context, _) => Called(TrainingOrchestration.Name, () => TrainingOrchestrator.Run(context)))
                .AddActivityFunc<IngestInput, IngestResult>(IngestActivity.Name,
                    (_, input) => Called(IngestActivity.Name, () => Create<Ingest>().Run(input, none)))
                .AddActivityFunc<FeatureShardsInput, FeaturizeShardResult?[]>(FeaturizeShardActivity.FindDoneName,
                    (_, input) => Called(FeaturizeShardActivity.FindDoneName, () => Create<FindFeaturizedShards>().Run(input, none)))
                .AddActivityFunc<FeaturizeShardInput, FeaturizeShardResult>(FeaturizeShardActivity.Name,
                    (_, input) => Called(FeaturizeShardActivity.Name, () => Create<FeaturizeShard>().Run(input, none)))
                .AddActivityFunc<TrainInput, TrainResult>(TrainAndEvaluateActivity.Name,
                    (_, input) => Called(TrainAndEvaluateActivity.Name, () => Create<TrainAndEvaluate>().Run(input, none)))
                .AddActivityFunc<PublishInput, PublishResult>(PublishActivity.Name,
                    (_, input) => Called(PublishActivity.Name, () => Create<Publish>().Run(input, none)))
                .AddActivityFunc<string?, Flowers.Labelling.PendingLabelling>(LabelPendingUploadsActivity.Name,
                    (_, input) => Called(LabelPendingUploadsActivity.Name, () => Create<LabelPendingUploads>().Run(input, none))),
            new DurableTaskTestHostOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
    }

    public async Task DisposeAsync()
    {
        await Durable.DisposeAsync();
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

public class FunctionWrapperTests(WrapperHost host) : IClassFixture<WrapperHost>
{
    private const string BaseUrl = "http://localhost:7071";
    private static readonly CancellationToken None = CancellationToken.None;

    private static JsonElement Json(TestHttpResponse response)
    {
        Assert.StartsWith("application/json", response.Header("Content-Type"));
        return JsonDocument.Parse(response.BodyText()).RootElement;
    }

    private static void AssertError(HttpStatusCode status, string error, Microsoft.Azure.Functions.Worker.Http.HttpResponseData response)
    {
        var answer = Assert.IsType<TestHttpResponse>(response);
        Assert.Equal(status, answer.StatusCode);
        Assert.Equal(error, Json(answer).GetProperty("error").GetString());
    }

    private static IEnumerable<(string Name, MethodInfo Method)> TriggerMethods() =>
        typeof(StartTraining).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Select(m => (m.GetCustomAttribute<FunctionAttribute>()?.Name, m)).Where(f => f.Item1 is not null).Select(f => (f.Item1!, f.m));

    [Fact]
    public async Task Health_answers_200_ok_to_anyone()
    {
        var response = Assert.IsType<TestHttpResponse>(await Health.Run(TestHttpRequest.Get(BaseUrl + "/api/health"), None));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", response.BodyText());
        var trigger = typeof(Health).GetMethod(nameof(Health.Run))!.GetParameters()[0].GetCustomAttribute<HttpTriggerAttribute>()!;
        Assert.Equal(AuthorizationLevel.Anonymous, trigger.AuthLevel);
    }

    [Fact]
    public void Every_other_HTTP_trigger_needs_a_function_key()
    {
        var levels = TriggerMethods()
            .Select(f => (f.Name, Trigger: f.Method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(a => a is not null)))
            .Where(f => f.Trigger is not null && f.Name != nameof(Health))
            .ToDictionary(f => f.Name, f => f.Trigger!.AuthLevel);
        Assert.Equal(["GetCurrentModel", "GetModel", "GetModelReport", "GetTrainingStatus", "StartTraining"], levels.Keys.Order());
        Assert.All(levels.Values, level => Assert.Equal(AuthorizationLevel.Function, level));
    }

    [Fact]
    public async Task Start_training_refuses_a_body_that_is_not_json_or_not_a_training_request()
    {
        var api = host.Create<StartTraining>();
        AssertError((HttpStatusCode)415, "the body must be sent as Content-Type: application/json, not 'text/plain'",
            await api.Run(TestHttpRequest.Post(BaseUrl + "/api/training", """{ "blobPrefix": "x" }""", "text/plain"), host.Client, None));
        var bad = Assert.IsType<TestHttpResponse>(
            await api.Run(TestHttpRequest.Post(BaseUrl + "/api/training", """{ "blobPrefix": "x", "seed": -1 }"""), host.Client, None));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.StartsWith("seed:", Json(bad).GetProperty("error").GetString());
        AssertError(HttpStatusCode.NotFound, "no training run 'training-never-started'",
            await GetTrainingStatus.Run(TestHttpRequest.Get(BaseUrl + "/api/training/training-never-started"), "training-never-started", host.Client, None));
    }

    [Fact]
    public async Task A_run_started_over_HTTP_runs_every_activity_wrapper_publishes_and_the_blob_triggers_label_uploads()
    {
        AssertError(HttpStatusCode.NotFound, "no model is published yet",
            await host.Create<GetCurrentModel>().Run(TestHttpRequest.Get(BaseUrl + "/api/models/current"), None));
        await PipelineServices.UploadDatasetAsync(host.Blobs, "wrapped", SyntheticPhotos.Classes, perClass: 8, seed: 300);

        // POST /api/training: Durable Functions' own 202 and check-status payload, built from the request's address.
        var start = host.Create<StartTraining>();
        const string body = """{ "blobPrefix": "wrapped", "shardSize": 8, "minAccuracy": 0.5 }""";
        var started = Assert.IsType<TestHttpResponse>(await start.Run(TestHttpRequest.Post(BaseUrl + "/api/training", body), host.Client, None));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var payload = Json(started);
        Assert.Equal("training-wrapped", payload.GetProperty("id").GetString());
        const string instance = BaseUrl + "/runtime/webhooks/durabletask/instances/training-wrapped";
        Assert.StartsWith(instance, payload.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(payload.GetProperty("statusQueryGetUri").GetString(), started.Header("Location"));
        Assert.StartsWith(instance + "/raiseEvent/{eventName}", payload.GetProperty("sendEventPostUri").GetString());
        Assert.StartsWith(instance + "/terminate", payload.GetProperty("terminatePostUri").GetString());
        Assert.StartsWith(instance, payload.GetProperty("purgeHistoryDeleteUri").GetString());

        // A second start while the first runs: 409 naming it.
        var again = Assert.IsType<TestHttpResponse>(await start.Run(TestHttpRequest.Post(BaseUrl + "/api/training", body), host.Client, None));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("training-wrapped", Json(again).GetProperty("id").GetString());

        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4)))
        {
            var run = await host.Client.WaitForInstanceCompletionAsync("training-wrapped", getInputsAndOutputs: true, timeout.Token);
            Assert.True(run.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{run.RuntimeStatus}: {run.FailureDetails?.ErrorMessage}");
        }
        var activities = TriggerMethods().Where(f => f.Method.GetParameters().Any(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null))
            .Select(f => f.Name).Order().ToList();
        Assert.Equal(activities, host.Calls.Keys.Where(k => k != TrainingOrchestration.Name).Order());
        Assert.True(host.Calls[TrainingOrchestration.Name] >= 1);

        // GET /api/training/{id}: the finished run with its published model.
        var status = Assert.IsType<TestHttpResponse>(
            await GetTrainingStatus.Run(TestHttpRequest.Get(BaseUrl + "/api/training/training-wrapped"), "training-wrapped", host.Client, None));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("Completed", Json(status).GetProperty("runtimeStatus").GetString());
        var modelId = Json(status).GetProperty("result").GetProperty("publishedModelId").GetString()!;
        Assert.Equal(Json(status).GetProperty("progress").GetProperty("shardsTotal").GetInt32(), host.Calls[FeaturizeShardActivity.Name]);

        var current = Assert.IsType<TestHttpResponse>(await host.Create<GetCurrentModel>().Run(TestHttpRequest.Get(BaseUrl + "/api/models/current"), None));
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(modelId, Json(current).GetProperty("modelId").GetString());
        Assert.True(Json(current).GetProperty("current").GetBoolean());
        var model = Assert.IsType<TestHttpResponse>(await host.Create<GetModel>().Run(TestHttpRequest.Get($"{BaseUrl}/api/models/{modelId}"), modelId, None));
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        Assert.True(Json(model).GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.5);
        AssertError(HttpStatusCode.NotFound, "no model 'no-such-model'",
            await host.Create<GetModel>().Run(TestHttpRequest.Get(BaseUrl + "/api/models/no-such-model"), "no-such-model", None));
        var report = Assert.IsType<TestHttpResponse>(
            await host.Create<GetModelReport>().Run(TestHttpRequest.Get($"{BaseUrl}/api/models/{modelId}/report"), modelId, null, None));
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.StartsWith("text/html", report.Header("Content-Type"));
        Assert.Contains("<html", report.BodyText(), StringComparison.OrdinalIgnoreCase);
        AssertError(HttpStatusCode.NotFound, $"no report file 'notes.txt' for model '{modelId}'",
            await host.Create<GetModelReport>().Run(TestHttpRequest.Get($"{BaseUrl}/api/models/{modelId}/report/notes.txt"), modelId, "notes.txt", None));

        // Blob triggers: the Event Grid one (Azure) and its polling twin (local builds) label the upload they are given.
        var uploads = host.Blobs.GetBlobContainerClient(StorageNames.Uploads);
        await uploads.CreateIfNotExistsAsync();
        var labels = host.Blobs.GetBlobContainerClient(StorageNames.Labels);
        foreach (var (name, label) in new[] { ("event-grid.jpg", LabelVia.EventGrid), ("polling.jpg", LabelVia.Polling) })
        {
            var upload = uploads.GetBlobClient(name);
            await upload.UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("circle", 7001)), overwrite: true);
            if (label == LabelVia.EventGrid) await host.Create<LabelUploadEventGrid>().Run(upload, None);
            else await host.Create<LabelUpload>().Run(upload, None);
            var written = JsonDocument.Parse((await labels.GetBlobClient(StorageNames.LabelBlob(name)).DownloadContentAsync()).Value.Content.ToString()).RootElement;
            Assert.Equal(modelId, written.GetProperty("modelId").GetString());
            Assert.Contains(written.GetProperty("label").GetString(), SyntheticPhotos.Classes);
            Assert.Equal(modelId, (await upload.GetPropertiesAsync()).Value.Metadata[StorageNames.LabelModelMetadata]);
        }
    }

    private enum LabelVia { EventGrid, Polling }
}
