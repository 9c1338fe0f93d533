using Azure.Storage.Blobs;
using Flowers.LocalHost;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>Issue 16: photos under a blobPrefix past Training:MaxPhotoBytes are skipped from their listed size, never
/// downloaded (real Azurite; the limit is lowered so the test photos stay small).</summary>
public sealed class BlobPhotoSizeCapTests : IAsyncLifetime
{
    private const long Limit = 20_000;
    private Azurite _azurite = null!;
    private ServiceProvider _services = null!;
    private readonly StorageTraffic _traffic = new();

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteInstance.StartNewAsync();
        _services = PipelineServices.Build(_azurite, _traffic, new TrainingSettings { TransferParallelism = 4, MaxPhotoBytes = Limit });
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    [Fact]
    public async Task A_blob_photo_past_the_limit_is_skipped_with_its_size_and_not_downloaded()
    {
        var service = _services.GetRequiredService<BlobServiceClient>();
        await PipelineServices.UploadDatasetAsync(service, "capped", SyntheticPhotos.Classes, perClass: 4, seed: 11);
        var huge = new byte[Limit + 1];
        SyntheticPhotos.Jpeg("circle", 1).CopyTo(huge, 0);
        var hugeBlob = StorageNames.DatasetPhotoBlob("capped", "circle", "huge.jpg");
        await service.GetBlobContainerClient(StorageNames.Datasets).GetBlobClient(hugeBlob).UploadAsync(new BinaryData(huge));

        var result = await _services.GetRequiredService<IngestActivity>()
            .RunAsync(new IngestInput("capped", SourceUrl: null, TestFraction: 0.25, Seed: 3, ShardSize: 64));

        Assert.Equal(12, result.Photos);
        Assert.Equal(1, result.Skipped);
        var report = await service.GetBlobContainerClient(StorageNames.Datasets).GetBlobClient(StorageNames.IngestReportBlob("capped"))
            .ReadOrDefaultAsync<IngestReport>();
        var skipped = Assert.Single(report!.Skipped);
        Assert.Equal("circle/huge.jpg", skipped.Image);
        Assert.Equal($"too large: {Limit + 1:N0} bytes (limit {Limit:N0} bytes a photo)", skipped.Reason);
        var manifest = await _services.GetRequiredService<SplitManifests>().ReadAsync(result.ManifestBlob, default);
        Assert.DoesNotContain(manifest.Entries, e => e.Image == "circle/huge.jpg");
        Assert.Equal(0, _traffic.Count("GET", "huge.jpg"));   // listed, never read
    }
}
