using Azure.Storage.Blobs;

namespace Flowers.Storage;

/// <summary>The app's containers in one storage account (names from <see cref="StorageNames"/>).</summary>
public sealed class FlowersStorage(BlobServiceClient service)
{
    public BlobServiceClient Service { get; } = service;
    public BlobContainerClient Uploads { get; } = service.GetBlobContainerClient(StorageNames.Uploads);
    public BlobContainerClient Labels { get; } = service.GetBlobContainerClient(StorageNames.Labels);
    public BlobContainerClient Claims { get; } = service.GetBlobContainerClient(StorageNames.Claims);
    public BlobContainerClient Datasets { get; } = service.GetBlobContainerClient(StorageNames.Datasets);
    public BlobContainerClient Features { get; } = service.GetBlobContainerClient(StorageNames.Features);
    public BlobContainerClient Models { get; } = service.GetBlobContainerClient(StorageNames.Models);

    private int _created;

    /// <summary>Creates any missing container; cheap after the first call in a process.</summary>
    public async Task EnsureContainersAsync(CancellationToken ct = default)
    {
        if (Volatile.Read(ref _created) == 1) return;
        foreach (var name in StorageNames.AllContainers)
            await Service.GetBlobContainerClient(name).CreateIfNotExistsAsync(cancellationToken: ct);
        Volatile.Write(ref _created, 1);
    }
}
