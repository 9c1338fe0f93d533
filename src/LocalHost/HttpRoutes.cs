using System.Security.Cryptography;
using System.Text;
using Flowers.Pipeline;
using Flowers.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;

namespace Flowers.LocalHost;

/// <summary>
/// The Functions app's HTTP routes, answered by the same Core calls as its functions in src/Functions.
/// Every route but health needs the function key, as with AuthorizationLevel.Function.
/// </summary>
public static class HttpRoutes
{
    public static void Map(IEndpointRouteBuilder app, string functionKey)
    {
        app.MapGet("/api/health", () => Json(StatusCodes.Status200OK, new { status = "ok" }));

        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
            HasKey(context.HttpContext.Request, functionKey)
                ? await next(context)
                : Json(StatusCodes.Status401Unauthorized, new { error = "missing or wrong function key (header x-functions-key or ?code=)" }));

        api.MapPost("/training", async (HttpRequest request, TrainingRuns runs, DurableTaskClient client, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body);
            var start = await runs.StartAsync(client, await reader.ReadToEndAsync(ct), ct);
            return start.Status switch
            {
                TrainingStartStatus.Started => CheckStatus(request, start.InstanceId!),
                TrainingStartStatus.AlreadyRunning => Json(StatusCodes.Status409Conflict, new { error = start.Error, id = start.InstanceId }),
                _ => Json(StatusCodes.Status400BadRequest, new { error = start.Error }),
            };
        });
        api.MapGet("/training/{id}", async (string id, DurableTaskClient client, CancellationToken ct) =>
            await TrainingRuns.GetAsync(client, id, ct) is { } run
                ? Json(StatusCodes.Status200OK, run)
                : Json(StatusCodes.Status404NotFound, new { error = $"no training run '{id}'" }));
        api.MapGet("/models/current", async (ModelRegistry models, CancellationToken ct) =>
            await models.DescribeCurrentAsync(ct) is { } model
                ? Json(StatusCodes.Status200OK, model)
                : Json(StatusCodes.Status404NotFound, new { error = "no model is published yet" }));
        api.MapGet("/models/{id}", async (string id, ModelRegistry models, CancellationToken ct) =>
            await models.DescribeAsync(id, ct) is { } model
                ? Json(StatusCodes.Status200OK, model)
                : Json(StatusCodes.Status404NotFound, new { error = $"no model '{id}'" }));
        api.MapGet("/models/{id}/report/{file?}", async (string id, string? file, ModelRegistry models, HttpResponse response, CancellationToken ct) =>
        {
            if (await models.ReadReportFileAsync(id, file, ct) is not { } report)
                return Json(StatusCodes.Status404NotFound, new { error = $"no report file '{file ?? "report.html"}' for model '{id}'" });
            foreach (var (name, value) in report.Headers.Where(h => h.Key != "Content-Type")) response.Headers[name] = value;
            return Results.Bytes(report.Content.ToMemory(), report.ContentType);
        });
    }

    /// <summary>202 with the run's id and where to watch it, like Durable Functions' check-status response.</summary>
    private static IResult CheckStatus(HttpRequest request, string id)
    {
        var status = $"{request.Scheme}://{request.Host}/api/training/{Uri.EscapeDataString(id)}";
        request.HttpContext.Response.Headers.Location = status;
        return Json(StatusCodes.Status202Accepted, new { id, statusQueryGetUri = status });
    }

    private static IResult Json(int status, object body) => Results.Json(body, BlobJson.Options, statusCode: status);

    private static bool HasKey(HttpRequest request, string key)
    {
        var given = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        return given is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key));
    }
}
