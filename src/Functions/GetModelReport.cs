using System.Net;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>GET /api/models/{id}/report: the model's report.html; GET /api/models/{id}/report/{file}: one of its pictures.</summary>
public sealed class GetModelReport(ModelRegistry models)
{
    [Function(nameof(GetModelReport))]
    public async Task<HttpResponseData> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{id}/report/{file?}")] HttpRequestData request,
        string id, string? file, CancellationToken ct)
    {
        if (await models.ReadReportFileAsync(id, file, ct) is not { } report)
            return await request.ErrorAsync(HttpStatusCode.NotFound, $"no report file '{file ?? "report.html"}' for model '{id}'");
        var response = request.CreateResponse(HttpStatusCode.OK);
        foreach (var (name, value) in report.Headers) response.Headers.Add(name, value);
        await response.Body.WriteAsync(report.Content.ToMemory(), ct);
        return response;
    }
}
