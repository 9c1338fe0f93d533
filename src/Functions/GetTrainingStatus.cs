using System.Net;
using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace Flowers.Functions;

/// <summary>GET /api/training/{id}: stage, progress, and the outcome or error of a run.</summary>
public static class GetTrainingStatus
{
    [Function(nameof(GetTrainingStatus))]
    public static async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "training/{id}")] HttpRequestData request, string id,
        [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        await TrainingRuns.GetAsync(client, id, ct) is { } run
            ? await request.RespondAsync(HttpStatusCode.OK, run)
            : await request.ErrorAsync(HttpStatusCode.NotFound, $"no training run '{id}'");
}
