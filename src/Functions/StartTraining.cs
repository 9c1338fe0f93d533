using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace Flowers.Functions;

/// <summary>POST /api/training: starts a training run (202 + status URLs), or says why not (400, 409).</summary>
public sealed class StartTraining(FlowersApi api)
{
    [Function(nameof(StartTraining))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = FlowersApi.Routes.Training)] HttpRequestData request,
        [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        var contentType = request.Headers.TryGetValues("Content-Type", out var values) ? values.FirstOrDefault() : null;
        var answer = await api.StartTrainingAsync(client, contentType, await request.ReadAsStringAsync(), request.Url.GetLeftPart(UriPartial.Authority), ct);
        // A started run gets Durable Functions' own 202 (its durable webhook URLs), as Azure users always have.
        return answer.StartedRunId is { } id ? await client.CreateCheckStatusResponseAsync(request, id, ct) : await request.AnswerAsync(answer, ct);
    }
}
