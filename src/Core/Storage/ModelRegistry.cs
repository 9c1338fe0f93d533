using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Evaluate;
using Flowers.Package;
using Flowers.Report;

namespace Flowers.Storage;

/// <summary>models/current: which model the labeller uses.</summary>
public sealed record PublishedModelPointer(string ModelId, DateTimeOffset PublishedAt);

/// <summary>What GET /api/models/... shows: the manifest and metrics exactly as stored.</summary>
public sealed record ModelDescription(string ModelId, bool Current, JsonElement Manifest, JsonElement Metrics);

/// <summary>
/// The models container: models/{modelId}/ (package, manifest, metrics, misclassified list, run report) and the
/// models/current pointer. Publishing writes the pointer only after checking every file of the model
/// is there, so a reader that follows the pointer never finds a half-written model.
/// </summary>
public sealed partial class ModelRegistry(FlowersStorage storage)
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")]
    private static partial Regex ModelIdPattern();

    /// <summary>Model ids are lowercase letters, digits and dashes: safe as a folder name and in a URL.</summary>
    public static bool IsValidModelId(string? modelId) => modelId is not null && ModelIdPattern().IsMatch(modelId);

    public async Task SaveAsync(ModelPackage package, RunMetrics metrics, CancellationToken ct = default)
    {
        var id = package.Manifest.ModelId;
        if (!IsValidModelId(id)) throw new ArgumentException($"'{id}' is not a valid model id", nameof(package));
        await storage.EnsureContainersAsync(ct);
        var folder = storage.Models;
        await folder.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.MetricsFile)).WriteAsync(metrics, ct: ct);
        await folder.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.MisclassifiedFile)).WriteAsync(metrics.Misclassified, ct: ct);
        await folder.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.ModelManifestFile)).WriteAsync(package.Manifest, ct: ct);
        using var zip = new MemoryStream();
        package.WriteTo(zip);
        zip.Position = 0;
        await folder.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.ModelPackageFile)).UploadAsync(zip, overwrite: true, ct);
    }

    /// <summary>Writes the model's run report (<see cref="RunReport.Render"/>'s files) under models/{modelId}/, each
    /// with its content type, so a blob download opens as a page or a picture too.</summary>
    public async Task SaveReportAsync(string modelId, IReadOnlyDictionary<string, byte[]> files, CancellationToken ct = default)
    {
        if (!IsValidModelId(modelId)) throw new ArgumentException($"'{modelId}' is not a valid model id", nameof(modelId));
        await storage.EnsureContainersAsync(ct);
        foreach (var (file, bytes) in files)
            await storage.Models.GetBlobClient(StorageNames.ModelReportBlob(modelId, file)).UploadAsync(new BinaryData(bytes),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = ModelReportFile.ContentTypeOf(file) } }, ct);
    }

    /// <summary>One file of a model's run report; <paramref name="file"/> null means the page. Null when the id is
    /// not a model id, the name is not one of <see cref="StorageNames.ReportFiles"/>, or the model has no report.</summary>
    public async Task<ModelReportFile?> ReadReportFileAsync(string modelId, string? file, CancellationToken ct = default)
    {
        file ??= RunReport.PageFile;
        if (!IsValidModelId(modelId) || !StorageNames.ReportFiles.Contains(file, StringComparer.Ordinal)) return null;
        try
        {
            var content = await storage.Models.GetBlobClient(StorageNames.ModelReportBlob(modelId, file)).DownloadContentAsync(ct);
            return new ModelReportFile(file, content.Value.Content);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Points models/current at <paramref name="modelId"/>; throws if any file of the model is missing.</summary>
    public async Task<PublishedModelPointer> PublishAsync(string modelId, DateTimeOffset publishedAt, CancellationToken ct = default)
    {
        if (!IsValidModelId(modelId)) throw new ArgumentException($"'{modelId}' is not a valid model id", nameof(modelId));
        foreach (var file in StorageNames.ModelFiles)
            if (!await storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, file)).ExistsAsync(ct))
                throw new InvalidOperationException($"model {modelId} cannot be published: {file} is missing");
        var pointer = new PublishedModelPointer(modelId, publishedAt);
        await storage.Models.GetBlobClient(StorageNames.CurrentModelPointer).WriteAsync(pointer, ct: ct);
        return pointer;
    }

    /// <summary>The ETag of models/current (null when nothing is published): a cheap change check.</summary>
    public async Task<ETag?> GetCurrentETagAsync(CancellationToken ct = default)
    {
        try
        {
            var props = await storage.Models.GetBlobClient(StorageNames.CurrentModelPointer).GetPropertiesAsync(cancellationToken: ct);
            return props.Value.ETag;
        }
        catch (RequestFailedException e) when (e.Status == 404 || e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            return null;
        }
    }

    /// <summary>The published pointer with the ETag it was read at, or null when nothing is published.</summary>
    public async Task<(PublishedModelPointer Pointer, ETag ETag)?> GetCurrentAsync(CancellationToken ct = default)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(StorageNames.CurrentModelPointer).DownloadContentAsync(ct);
            var pointer = content.Value.Content.ToObjectFromJson<PublishedModelPointer>(BlobJson.Options)
                ?? throw new InvalidDataException("models/current is empty");
            return (pointer, content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<ModelPackage> LoadPackageAsync(string modelId, CancellationToken ct = default)
    {
        var blob = storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile));
        using var zip = new MemoryStream();
        await blob.DownloadToAsync(zip, ct);
        zip.Position = 0;
        return ModelPackage.ReadFrom(zip);
    }

    public Task<RunMetrics?> ReadMetricsAsync(string modelId, CancellationToken ct = default) =>
        storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.MetricsFile)).ReadOrDefaultAsync<RunMetrics>(ct);

    /// <summary>The model's manifest and metrics, or null when there is no such (complete) model.</summary>
    public async Task<ModelDescription?> DescribeAsync(string modelId, CancellationToken ct = default)
    {
        if (!IsValidModelId(modelId)) return null;
        var manifest = await storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelManifestFile)).ReadOrDefaultAsync<JsonElement?>(ct);
        var metrics = await storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.MetricsFile)).ReadOrDefaultAsync<JsonElement?>(ct);
        if (manifest is null || metrics is null) return null;
        var current = await GetCurrentAsync(ct);
        return new ModelDescription(modelId, current?.Pointer.ModelId == modelId, manifest.Value, metrics.Value);
    }

    /// <summary>The published model's description, or null when nothing is published.</summary>
    public async Task<ModelDescription?> DescribeCurrentAsync(CancellationToken ct = default)
    {
        var current = await GetCurrentAsync(ct);
        return current is null ? null : await DescribeAsync(current.Value.Pointer.ModelId, ct);
    }
}
