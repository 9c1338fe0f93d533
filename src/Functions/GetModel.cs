using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/{id}: any trained model's manifest and metrics, published or not.</summary>
public sealed class GetModel(FlowersApi api)
{
    [Function(nameof(GetModel))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = FlowersApi.Routes.Model)] HttpRequestData request, string id, CancellationToken ct) =>
        await request.AnswerAsync(await api.GetModelAsync(id, ct), ct);
}
