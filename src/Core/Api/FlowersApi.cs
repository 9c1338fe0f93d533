using System.Text.Json;
using Flowers.Pipeline;
using Flowers.Report;
using Flowers.Storage;
using Microsoft.DurableTask.Client;

namespace Flowers.Api;

/// <summary>
/// What one HTTP request is answered with, independent of the host: a status code, the body's bytes and the
/// headers to send (Content-Type among them). The Functions app and the local web host each write it out.
/// </summary>
public sealed record ApiAnswer(int Status, BinaryData Body, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The id of the run this request started (a 202): the Functions app answers it with Durable
    /// Functions' own check-status response, which Azure users get today.</summary>
    public string? StartedRunId { get; init; }

    /// <summary>The value of header <paramref name="name"/>, or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>A JSON answer, camelCase like every other document of the app (a host's default serializer may keep
    /// C# PascalCase names).</summary>
    public static ApiAnswer Json(int status, object body, params KeyValuePair<string, string>[] headers) =>
        new(status, new BinaryData(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), BlobJson.Options)),
            [new("Content-Type", JsonContentType), .. headers]);

    public static ApiAnswer Error(int status, string error) => Json(status, new { error });
}

/// <summary>
/// The app's HTTP API (every route under /api): its routes and what each answers, in one place for both hosts.
/// Hosts map <see cref="Routes"/> to these methods and check the function key themselves, as Azure does.
/// </summary>
public sealed class FlowersApi(TrainingRuns runs, ModelRegistry models)
{
    /// <summary>Route templates below /api, as both the Functions attributes and the local host's endpoints use them.</summary>
    public static class Routes
    {
        public const string Health = "health";
        public const string Training = "training";
        public const string TrainingRun = "training/{id}";
        public const string CurrentModel = "models/current";
        public const string Model = "models/{id}";
        public const string ModelReport = "models/{id}/report/{file?}";

        /// <summary>Where a run is watched, below <paramref name="baseUrl"/> (scheme and host).</summary>
        public static string TrainingRunUrl(string baseUrl, string id) => $"{baseUrl.TrimEnd('/')}/api/training/{Uri.EscapeDataString(id)}";
    }

    /// <summary>GET /api/health: the liveness probe, the one anonymous route. Unindented, as the Functions app has
    /// always answered it.</summary>
    public static ApiAnswer Health() => new(200, BinaryData.FromString("""{"status":"ok"}"""), [new("Content-Type", ApiAnswer.JsonContentType)]);

    /// <summary>POST /api/training: 202 with the run's id and where to watch it (like Durable Functions'
    /// check-status response), 409 with the id of the run already going, 400 saying what is wrong, or 415.
    /// A body must come as JSON: a web page can send text/plain or a form to another origin without asking (no CORS
    /// preflight), never application/json, so this also keeps pages the user visits from starting runs.</summary>
    public async Task<ApiAnswer> StartTrainingAsync(DurableTaskClient client, string? contentType, string? body, string baseUrl, CancellationToken ct = default)
    {
        if (!IsJson(contentType) && (contentType is not null || !string.IsNullOrEmpty(body)))
            return ApiAnswer.Error(415, $"the body must be sent as Content-Type: application/json, not {(contentType is null ? "without a Content-Type" : $"'{contentType}'")}");
        var start = await runs.StartAsync(client, body, ct);
        return start.Status switch
        {
            TrainingStartStatus.Started => CheckStatus(start.InstanceId!, Routes.TrainingRunUrl(baseUrl, start.InstanceId!)),
            TrainingStartStatus.AlreadyRunning => ApiAnswer.Json(409, new { error = start.Error, id = start.InstanceId }),
            _ => ApiAnswer.Error(400, start.Error!),
        };
    }

    /// <summary>application/json or a +json type, with or without parameters (charset).</summary>
    public static bool IsJson(string? contentType) =>
        System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type) && type.MediaType is { } media
        && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>GET /api/training/{id}: stage, progress, and the outcome or error of a run.</summary>
    public static async Task<ApiAnswer> GetTrainingRunAsync(DurableTaskClient client, string id, CancellationToken ct = default) =>
        await TrainingRuns.GetAsync(client, id, ct) is { } run
            ? ApiAnswer.Json(200, run)
            : ApiAnswer.Error(404, $"no training run '{id}'");

    /// <summary>GET /api/models/current: the published model's manifest and metrics.</summary>
    public async Task<ApiAnswer> GetCurrentModelAsync(CancellationToken ct = default) =>
        await models.DescribeCurrentAsync(ct) is { } model
            ? ApiAnswer.Json(200, model)
            : ApiAnswer.Error(404, "no model is published yet");

    /// <summary>GET /api/models/{id}: any trained model's manifest and metrics, published or not.</summary>
    public async Task<ApiAnswer> GetModelAsync(string id, CancellationToken ct = default) =>
        await models.DescribeAsync(id, ct) is { } model
            ? ApiAnswer.Json(200, model)
            : ApiAnswer.Error(404, $"no model '{id}'");

    /// <summary>GET /api/models/{id}/report[/{file}]: the model's report.html, or one of its pictures.</summary>
    public async Task<ApiAnswer> GetModelReportAsync(string id, string? file, CancellationToken ct = default) =>
        await models.ReadReportFileAsync(id, file, ct) is { } report
            ? new ApiAnswer(200, report.Content, report.Headers)
            : ApiAnswer.Error(404, $"no report file '{file ?? RunReport.PageFile}' for model '{id}'");

    private static ApiAnswer CheckStatus(string id, string statusUrl) =>
        ApiAnswer.Json(202, new { id, statusQueryGetUri = statusUrl }, new KeyValuePair<string, string>("Location", statusUrl)) with { StartedRunId = id };
}
