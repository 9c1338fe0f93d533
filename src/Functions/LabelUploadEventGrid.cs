using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

/// <summary>Labels a photo uploaded to uploads/ (Event Grid blob trigger: Flex Consumption). See docs/functions.md.</summary>
public sealed class LabelUploadEventGrid(UploadLabeller labeller)
{
    [Function(nameof(LabelUploadEventGrid))]
    public async Task Run(
        [BlobTrigger(StorageNames.UploadsTriggerPath, Source = BlobTriggerSource.EventGrid, Connection = StorageNames.Connection)] BlobClient upload,
        CancellationToken ct) =>
        await labeller.LabelAsync(upload.Name, ct);
}
