using System.Net;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/current: the published model's manifest and metrics.</summary>
public sealed class GetCurrentModel(ModelRegistry models)
{
    [Function(nameof(GetCurrentModel))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/current")] HttpRequestData request, CancellationToken ct) =>
        await models.DescribeCurrentAsync(ct) is { } model
            ? await request.RespondAsync(HttpStatusCode.OK, model)
            : await request.ErrorAsync(HttpStatusCode.NotFound, "no model is published yet");
}
