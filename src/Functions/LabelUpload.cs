using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

/// <summary>Labels a photo uploaded to uploads/ (polling blob trigger: local runs, Azurite). See docs/functions.md.</summary>
public sealed class LabelUpload(UploadLabeller labeller)
{
    [Function(nameof(LabelUpload))]
    public async Task Run([BlobTrigger(StorageNames.UploadsTriggerPath, Connection = StorageNames.Connection)] BlobClient upload, CancellationToken ct) =>
        await labeller.LabelAsync(upload.Name, ct);
}
