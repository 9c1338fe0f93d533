using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/current: the published model's manifest and metrics.</summary>
public sealed class GetCurrentModel(FlowersApi api)
{
    [Function(nameof(GetCurrentModel))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = FlowersApi.Routes.CurrentModel)] HttpRequestData request, CancellationToken ct) =>
        await request.AnswerAsync(await api.GetCurrentModelAsync(ct), ct);
}
