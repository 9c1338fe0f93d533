using System.Net;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/{id}: any trained model's manifest and metrics, published or not.</summary>
public sealed class GetModel(ModelRegistry models)
{
    [Function(nameof(GetModel))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{id}")] HttpRequestData request, string id, CancellationToken ct) =>
        await models.DescribeAsync(id, ct) is { } model
            ? await request.RespondAsync(HttpStatusCode.OK, model)
            : await request.ErrorAsync(HttpStatusCode.NotFound, $"no model '{id}'");
}
