using System.Net;
using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace Flowers.Functions;

/// <summary>POST /api/training: starts a training run (202 + status URLs), or says why not (400, 409).</summary>
public sealed class StartTraining(TrainingRuns runs)
{
    [Function(nameof(StartTraining))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "training")] HttpRequestData request,
        [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        var start = await runs.StartAsync(client, await request.ReadAsStringAsync(), ct);
        return start.Status switch
        {
            TrainingStartStatus.Started => await client.CreateCheckStatusResponseAsync(request, start.InstanceId!, ct),
            TrainingStartStatus.AlreadyRunning => await request.RespondAsync(HttpStatusCode.Conflict, new { error = start.Error, id = start.InstanceId }),
            _ => await request.ErrorAsync(HttpStatusCode.BadRequest, start.Error!),
        };
    }
}
