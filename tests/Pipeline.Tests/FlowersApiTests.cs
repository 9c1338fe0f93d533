using System.Text;
using System.Text.Json;
using Flowers.Api;
using Flowers.Report;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>
/// The app's services on an Azurite of their own, and a Durable Task test host whose training orchestration waits
/// for an event that never comes: a started run stays running, so a second start meets it.
/// </summary>
public sealed class ApiHost : IAsyncLifetime
{
    public Flowers.LocalHost.Azurite Azurite { get; private set; } = null!;
    public ServiceProvider Services { get; private set; } = null!;
    public DurableTaskTestHost Durable { get; private set; } = null!;
    public DurableTaskClient Client => Durable.Client;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, new StorageTraffic());
        Durable = await DurableTaskTestHost.StartAsync(registry => registry.AddOrchestratorFunc<TrainingRequest, TrainingOutcome>(
                TrainingOrchestration.Name, async (context, _) => await context.WaitForExternalEvent<TrainingOutcome>("never")),
            new DurableTaskTestHostOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
    }

    public async Task DisposeAsync()
    {
        await Durable.DisposeAsync();
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

/// <summary>What every route of the HTTP API answers (status, headers, body), from Core: both hosts only write these out.</summary>
public class FlowersApiTests(ApiHost host) : IClassFixture<ApiHost>
{
    private const string BaseUrl = "http://127.0.0.1:7071";
    private FlowersApi Api => host.Services.GetRequiredService<FlowersApi>();
    private ModelRegistry Registry => host.Services.GetRequiredService<ModelRegistry>();
    private FlowersStorage Containers => host.Services.GetRequiredService<FlowersStorage>();

    private static JsonElement Json(ApiAnswer answer)
    {
        Assert.Equal(ApiAnswer.JsonContentType, answer.Header("Content-Type"));
        return JsonDocument.Parse(answer.Body.ToString()).RootElement;
    }

    private static void AssertError(ApiAnswer answer, int status, string error)
    {
        Assert.Equal(status, answer.Status);
        Assert.Equal(error, Json(answer).GetProperty("error").GetString());
    }

    [Fact]
    public void Health_is_ok() =>
        Assert.Equal("""{"status":"ok"}""", FlowersApi.Health() is { Status: 200 } health ? health.Body.ToString() : null);

    [Fact]
    public async Task Training_starts_with_a_status_link_refuses_a_second_run_and_a_bad_body_and_shows_the_run()
    {
        var started = await Api.StartTrainingAsync(host.Client, "application/json", """{ "blobPrefix": "api-shapes" }""", BaseUrl + "/");
        Assert.Equal(202, started.Status);
        Assert.Equal("training-api-shapes", started.StartedRunId);
        const string statusUrl = BaseUrl + "/api/training/training-api-shapes";
        Assert.Equal(statusUrl, started.Header("Location"));
        Assert.Equal("training-api-shapes", Json(started).GetProperty("id").GetString());
        Assert.Equal(statusUrl, Json(started).GetProperty("statusQueryGetUri").GetString());

        var again = await Api.StartTrainingAsync(host.Client, "application/json", """{ "blobPrefix": "api-shapes" }""", BaseUrl);
        Assert.Null(again.StartedRunId);
        AssertError(again, 409, "a training run of this data set is already running: training-api-shapes");
        Assert.Equal("training-api-shapes", Json(again).GetProperty("id").GetString());

        var bad = await Api.StartTrainingAsync(host.Client, "application/json", """{ "blobPrefix": "api-bad", "seed": -1 }""", BaseUrl);
        Assert.Equal(400, bad.Status);
        Assert.StartsWith("seed:", Json(bad).GetProperty("error").GetString());
        Assert.Null(bad.StartedRunId);

        var run = await FlowersApi.GetTrainingRunAsync(host.Client, "training-api-shapes");
        Assert.Equal(200, run.Status);
        Assert.Equal("training-api-shapes", Json(run).GetProperty("id").GetString());
        Assert.Contains(Json(run).GetProperty("runtimeStatus").GetString(), new[] { "Pending", "Running" });
        AssertError(await FlowersApi.GetTrainingRunAsync(host.Client, "training-nothing"), 404, "no training run 'training-nothing'");
    }

    [Theory]
    [InlineData("text/plain", "{}")]
    [InlineData("application/x-www-form-urlencoded", "source=/etc")]
    [InlineData("multipart/form-data; boundary=x", "")]
    [InlineData(null, "{}")]
    public async Task A_body_that_is_not_sent_as_json_is_refused_before_anything_starts(string? contentType, string body)
    {
        var answer = await Api.StartTrainingAsync(host.Client, contentType, body, BaseUrl);
        AssertError(answer, 415, $"the body must be sent as Content-Type: application/json, not {(contentType is null ? "without a Content-Type" : $"'{contentType}'")}");
        Assert.Null(answer.StartedRunId);
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON; charset=utf-8", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("text/json", false)]
    [InlineData("application/jsonp", false)]
    [InlineData("", false)]
    public void Json_content_types_are_told_apart(string contentType, bool json) => Assert.Equal(json, FlowersApi.IsJson(contentType));

    [Fact]
    public async Task Models_and_their_reports_are_found_by_id_and_the_current_one_once_published()
    {
        AssertError(await Api.GetCurrentModelAsync(), 404, "no model is published yet");
        const string id = "api-20261129-120000-abc123";
        await Containers.EnsureContainersAsync();
        await Containers.Models.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.ModelManifestFile)).WriteAsync(new { modelId = id });
        await Containers.Models.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.MetricsFile)).WriteAsync(new { accuracy = 0.9 });

        var model = await Api.GetModelAsync(id);
        Assert.Equal(200, model.Status);
        Assert.Equal(id, Json(model).GetProperty("modelId").GetString());
        Assert.False(Json(model).GetProperty("current").GetBoolean());
        Assert.Equal(0.9, Json(model).GetProperty("metrics").GetProperty("accuracy").GetDouble());
        AssertError(await Api.GetModelAsync("no-such-model"), 404, "no model 'no-such-model'");

        await Containers.Models.GetBlobClient(StorageNames.CurrentModelPointer).WriteAsync(new PublishedModelPointer(id, DateTimeOffset.UtcNow));
        var current = await Api.GetCurrentModelAsync();
        Assert.Equal(200, current.Status);
        Assert.True(Json(current).GetProperty("current").GetBoolean());

        AssertError(await Api.GetModelReportAsync(id, null), 404, $"no report file 'report.html' for model '{id}'");
        await Registry.SaveReportAsync(id, RunReport.Files.ToDictionary(f => f, f => Encoding.UTF8.GetBytes($"bytes of {f}")));
        var page = await Api.GetModelReportAsync(id, null);
        Assert.Equal(200, page.Status);
        Assert.Equal("bytes of report.html", page.Body.ToString());
        Assert.Equal("text/html; charset=utf-8", page.Header("Content-Type"));
        Assert.NotNull(page.Header("Content-Security-Policy"));
        var picture = await Api.GetModelReportAsync(id, RunReport.ConfusionFile);
        Assert.Equal("image/png", picture.Header("Content-Type"));
        AssertError(await Api.GetModelReportAsync(id, "notes.txt"), 404, $"no report file 'notes.txt' for model '{id}'");
    }
}
