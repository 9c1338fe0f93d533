using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>Liveness probe: the one anonymous route.</summary>
public static class Health
{
    [Function(nameof(Health))]
    public static Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FlowersApi.Routes.Health)] HttpRequestData request, CancellationToken ct) =>
        request.AnswerAsync(FlowersApi.Health(), ct);
}
