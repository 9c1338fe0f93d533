using System.Net;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>JSON answers of the HTTP functions (camelCase, like every other document of the app).</summary>
internal static class HttpJson
{
    public static async Task<HttpResponseData> RespondAsync<T>(this HttpRequestData request, HttpStatusCode status, T body)
    {
        var response = request.CreateResponse();
        await response.WriteAsJsonAsync(body);
        response.StatusCode = status; // WriteAsJsonAsync sets 200
        return response;
    }

    public static Task<HttpResponseData> ErrorAsync(this HttpRequestData request, HttpStatusCode status, string error) =>
        request.RespondAsync(status, new { error });
}
