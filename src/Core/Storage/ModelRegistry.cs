using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs.Models;
using Flowers.Evaluate;
using Flowers.Package;
using Flowers.Report;

namespace Flowers.Storage;

/// <summary>models/current: which model the labeller uses.</summary>
/// <param name="ModelCreatedAt">The model's manifest CreatedAt: a publish never replaces a model created later.</param>
/// <param name="PackageSha256">Lowercase hex SHA-256 of models/{id}/model.flowers as published; the labeller refuses a
/// package with another hash. Null in pointers written before this field existed (accepted with a warning).</param>
public sealed record PublishedModelPointer(string ModelId, DateTimeOffset PublishedAt,
    DateTimeOffset? ModelCreatedAt = null, string? PackageSha256 = null);

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

    /// <summary>
    /// Points models/current at <paramref name="modelId"/>, unless it points at a model created later (a publish
    /// retried after a host was killed must not roll a newer model back): the pointer is read with its ETag and
    /// written only if it is unchanged (If-Match, or If-None-Match * when there is none), and read again on 412.
    /// </summary>
    /// <returns>The pointer current afterwards: this model's, or the later model's that was left in place.</returns>
    /// <exception cref="InvalidOperationException">A file of the model is missing, or it was evaluated on no test photo.</exception>
    /// <exception cref="ModelPackageException">The package does not load.</exception>
    public async Task<PublishedModelPointer> PublishAsync(string modelId, DateTimeOffset publishedAt, CancellationToken ct = default)
    {
        if (!IsValidModelId(modelId)) throw new ArgumentException($"'{modelId}' is not a valid model id", nameof(modelId));
        foreach (var file in StorageNames.ModelFiles)
            if (!await storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, file)).ExistsAsync(ct))
                throw new InvalidOperationException($"model {modelId} cannot be published: {file} is missing");
        // The package as it will be served: loaded once (a package that cannot load is never published) and hashed.
        var (package, sha256) = await DownloadPackageAsync(modelId, ct);
        if (package.Manifest.ModelId != modelId)
            throw new ModelPackageException($"model {modelId} cannot be published: its package says it is model {package.Manifest.ModelId}");
        if (package.Manifest.Metrics.TestCount <= 0)
            throw new InvalidOperationException($"model {modelId} cannot be published: it was evaluated on 0 test photos, so its accuracy says nothing");
        var created = package.Manifest.CreatedAt;
        var pointerBlob = storage.Models.GetBlobClient(StorageNames.CurrentModelPointer);
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetCurrentAsync(ct);
            if (current is { } c)
            {
                if (c.Pointer.ModelId == modelId && c.Pointer.PackageSha256 == sha256) return c.Pointer; // a retried publish
                var currentCreated = c.Pointer.ModelCreatedAt ?? await ReadCreatedAtAsync(c.Pointer.ModelId, ct);
                if (c.Pointer.ModelId != modelId && currentCreated > created) return c.Pointer;
            }
            var pointer = new PublishedModelPointer(modelId, publishedAt, created, sha256);
            var conditions = current is { } seen ? new BlobRequestConditions { IfMatch = seen.ETag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                await pointerBlob.WriteAsync(pointer, ct: ct, conditions: conditions);
                return pointer;
            }
            catch (RequestFailedException e) when ((e.Status is 412 or 409) && attempt < 10)
            {
                // Another publish wrote models/current since it was read: decide again on what is there now.
            }
        }
    }

    /// <summary>A model's CreatedAt from its manifest.json (for pointers written before they carried it); the
    /// earliest time when it cannot be read, so a model that is gone never blocks a publish.</summary>
    private async Task<DateTimeOffset> ReadCreatedAtAsync(string modelId, CancellationToken ct)
    {
        try
        {
            var manifest = await storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelManifestFile)).ReadOrDefaultAsync<JsonElement?>(ct);
            return manifest?.TryGetProperty("createdAt", out var at) == true && at.TryGetDateTimeOffset(out var created) ? created : DateTimeOffset.MinValue;
        }
        catch (JsonException) { return DateTimeOffset.MinValue; }
    }

    /// <summary>models/{id}/model.flowers loaded, with the lowercase hex SHA-256 of its bytes.</summary>
    public async Task<(ModelPackage Package, string Sha256)> DownloadPackageAsync(string modelId, CancellationToken ct = default)
    {
        var blob = storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile));
        var bytes = (await blob.DownloadContentAsync(ct)).Value.Content.ToMemory();
        var sha256 = Sha256Of(bytes.Span);
        using var zip = new MemoryStream(bytes.ToArray(), writable: false);
        return (ModelPackage.ReadFrom(zip), sha256);
    }

    /// <summary>Downloads models/{id}/model.flowers and checks its SHA-256 against the pointer's before loading it.</summary>
    /// <exception cref="ModelPackageException">The bytes have another hash (the package was changed after it was
    /// published), or the package does not load.</exception>
    public async Task<ModelPackage> LoadPackageAsync(string modelId, string expectedSha256, CancellationToken ct = default)
    {
        var blob = storage.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile));
        var bytes = (await blob.DownloadContentAsync(ct)).Value.Content.ToMemory();
        var actual = Sha256Of(bytes.Span);
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelPackageException($"model {modelId}'s package has SHA-256 {actual}, but models/current was published with {expectedSha256}; the package was changed after it was published and is refused");
        using var zip = new MemoryStream(bytes.ToArray(), writable: false);
        return ModelPackage.ReadFrom(zip);
    }

    public static string Sha256Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

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
