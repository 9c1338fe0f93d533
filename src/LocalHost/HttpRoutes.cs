using System.Security.Cryptography;
using System.Text;
using Flowers.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;

namespace Flowers.LocalHost;

/// <summary>
/// The Functions app's HTTP routes, answered by the same Core <see cref="FlowersApi"/> as its functions in src/Functions.
/// Every route but health needs the function key, as with AuthorizationLevel.Function, and every route refuses
/// requests addressed to another host name or sent from another origin (<see cref="LocalHostNames"/>).
/// </summary>
public static class HttpRoutes
{
    public static void Map(IEndpointRouteBuilder app, string functionKey, string listenUrl)
    {
        if (string.IsNullOrWhiteSpace(functionKey)) throw new ArgumentException("The function key is empty: every request would match it.", nameof(functionKey));
        var hosts = LocalHostNames.For(listenUrl);
        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
            LocalHostNames.Refusal(context.HttpContext.Request, hosts) is { } refusal ? Result(refusal) : await next(context));
        api.MapGet(FlowersApi.Routes.Health, () => Result(FlowersApi.Health()));

        var keyed = api.MapGroup("").AddEndpointFilter(async (context, next) =>
            HasKey(context.HttpContext.Request, functionKey)
                ? await next(context)
                : Result(ApiAnswer.Error(StatusCodes.Status401Unauthorized, "missing or wrong function key (header x-functions-key or ?code=)")));

        keyed.MapPost(FlowersApi.Routes.Training, async (HttpRequest request, FlowersApi flowers, DurableTaskClient client, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body);
            return Result(await flowers.StartTrainingAsync(client, request.ContentType, await reader.ReadToEndAsync(ct), $"{request.Scheme}://{request.Host}", ct));
        });
        keyed.MapGet(FlowersApi.Routes.TrainingRun, async (string id, DurableTaskClient client, CancellationToken ct) =>
            Result(await FlowersApi.GetTrainingRunAsync(client, id, ct)));
        keyed.MapGet(FlowersApi.Routes.CurrentModel, async (FlowersApi flowers, CancellationToken ct) =>
            Result(await flowers.GetCurrentModelAsync(ct)));
        keyed.MapGet(FlowersApi.Routes.Model, async (string id, FlowersApi flowers, CancellationToken ct) =>
            Result(await flowers.GetModelAsync(id, ct)));
        keyed.MapGet(FlowersApi.Routes.ModelReport, async (string id, string? file, FlowersApi flowers, CancellationToken ct) =>
            Result(await flowers.GetModelReportAsync(id, file, ct)));
    }

    /// <summary>Core's answer as an ASP.NET Core result.</summary>
    private static IResult Result(ApiAnswer answer) => new AnswerResult(answer);

    private sealed class AnswerResult(ApiAnswer answer) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = answer.Status;
            foreach (var (name, value) in answer.Headers) response.Headers[name] = value;
            response.ContentLength = answer.Body.ToMemory().Length;
            await response.Body.WriteAsync(answer.Body.ToMemory(), context.RequestAborted);
        }
    }

    private static bool HasKey(HttpRequest request, string key)
    {
        var given = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        return given is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key));
    }
}
