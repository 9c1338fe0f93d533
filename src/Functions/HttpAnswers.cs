using Flowers.Api;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>Writes Core's <see cref="ApiAnswer"/> as the HTTP functions' response.</summary>
internal static class HttpAnswers
{
    public static async Task<HttpResponseData> AnswerAsync(this HttpRequestData request, ApiAnswer answer, CancellationToken ct)
    {
        var response = request.CreateResponse((System.Net.HttpStatusCode)answer.Status);
        foreach (var (name, value) in answer.Headers) response.Headers.Add(name, value);
        await response.Body.WriteAsync(answer.Body.ToMemory(), ct);
        return response;
    }
}
