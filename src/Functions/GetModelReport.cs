using Flowers.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/{id}/report: the model's report.html; GET /api/models/{id}/report/{file}: one of its pictures.</summary>
public sealed class GetModelReport(FlowersApi api)
{
    [Function(nameof(GetModelReport))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = FlowersApi.Routes.ModelReport)] HttpRequestData request,
        string id, string? file, CancellationToken ct) =>
        await request.AnswerAsync(await api.GetModelReportAsync(id, file, ct), ct);
}
