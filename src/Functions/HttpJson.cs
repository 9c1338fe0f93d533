using System.Net;
using System.Text.Json;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker.Http;

namespace Flowers.Functions;

/// <summary>JSON answers of the HTTP functions, camelCase like every other document of the app (the worker's
/// default serializer would keep C# PascalCase names).</summary>
internal static class HttpJson
{
    public static async Task<HttpResponseData> RespondAsync<T>(this HttpRequestData request, HttpStatusCode status, T body)
    {
        var response = request.CreateResponse(status);
        response.Headers.Add("Content-Type", "application/json; charset=utf-8");
        await response.WriteStringAsync(JsonSerializer.Serialize(body, BlobJson.Options));
        return response;
    }

    public static Task<HttpResponseData> ErrorAsync(this HttpRequestData request, HttpStatusCode status, string error) =>
        request.RespondAsync(status, new { error });
}
