using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace Flowers.Functions;

/// <summary>GET /api/training/{id}: stage, progress, and the outcome or error of a run.</summary>
public static class GetTrainingStatus
{
    [Function(nameof(GetTrainingStatus))]
    public static async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = FlowersApi.Routes.TrainingRun)] HttpRequestData request, string id,
        [DurableClient] DurableTaskClient client, CancellationToken ct) =>
        await request.AnswerAsync(await FlowersApi.GetTrainingRunAsync(client, id, ct), ct);
}
