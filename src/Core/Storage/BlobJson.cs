using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Flowers.Storage;

/// <summary>Small JSON documents in blobs (manifests, summaries, results), camelCase like metrics.json.</summary>
public static class BlobJson
{
    public static readonly JsonSerializerOptions Options = Flowers.Evaluate.RunMetrics.Json;

    public static async Task<Response<BlobContentInfo>> WriteAsync<T>(this BlobClient blob, T value,
        IDictionary<string, string>? metadata = null, CancellationToken ct = default, BlobRequestConditions? conditions = null)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Options);
        return await blob.UploadAsync(new BinaryData(bytes), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = metadata,
            Conditions = conditions,
        }, ct);
    }

    /// <summary>The document, or default when the blob does not exist.</summary>
    public static async Task<T?> ReadOrDefaultAsync<T>(this BlobClient blob, CancellationToken ct = default)
    {
        try
        {
            var content = await blob.DownloadContentAsync(ct);
            return content.Value.Content.ToObjectFromJson<T>(Options);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return default;
        }
    }

    public static async Task<T> ReadAsync<T>(this BlobClient blob, CancellationToken ct = default) =>
        await blob.ReadOrDefaultAsync<T>(ct)
        ?? throw new InvalidDataException($"{blob.BlobContainerName}/{blob.Name} is missing or empty");
}
