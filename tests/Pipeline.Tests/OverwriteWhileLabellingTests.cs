using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>A second version of an upload that arrives while the first is labelled ends with its own label.</summary>
public class OverwriteWhileLabellingTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    /// <summary>Replaces the upload with its second version just before the labeller's first result write leaves:
    /// the first version has been read and classified, its result not yet stored (a real race, made deterministic).</summary>
    private sealed class OverwriteBeforeFirstResult(BlobContainerClient uploads, string name, byte[] secondVersion) : HttpPipelinePolicy
    {
        private int _done;
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Put
                && message.Request.Uri.Path.EndsWith($"/{StorageNames.Labels}/{name}.json", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _done, 1) == 0)
                await uploads.GetBlobClient(name).UploadAsync(new BinaryData(secondVersion), overwrite: true);
            await ProcessNextAsync(message, pipeline);
        }
    }

    [Fact]
    public async Task The_last_version_of_an_upload_is_labelled_and_its_result_names_that_versions_ETag()
    {
        const string name = "race/photo.jpg";
        var first = SyntheticPhotos.Jpeg("circle", 5000);
        var second = SyntheticPhotos.Jpeg("stripes", 5001);
        var plain = new BlobServiceClient(storage.Azurite.ConnectionString).GetBlobContainerClient(StorageNames.Uploads);
        await using var services = PipelineServices.Build(storage.Azurite, new StorageTraffic(),
            alsoPolicy: new OverwriteBeforeFirstResult(plain, name, second));
        var containers = services.GetRequiredService<FlowersStorage>();
        await containers.EnsureContainersAsync();
        var model = services.GetRequiredService<PublishedModel>();
        var classifier = (await model.GetAsync())!;
        var secondLabel = classifier.Classify(second);
        Assert.NotEqual(classifier.Classify(first).Label, secondLabel.Label); // else the test could not tell them apart
        await plain.GetBlobClient(name).UploadAsync(new BinaryData(first));

        await services.GetRequiredService<UploadLabeller>().LabelAsync(name);

        var result = await containers.Labels.GetBlobClient(name + ".json").ReadAsync<LabelResult>();
        var upload = (await plain.GetBlobClient(name).GetPropertiesAsync()).Value;
        Assert.Equal(secondLabel.Label, result.Label);
        Assert.Equal(secondLabel.Confidence, result.Confidence!.Value, 6);
        Assert.Equal(upload.ETag.ToString(), result.UploadETag);
        Assert.Equal(secondLabel.Label, upload.Metadata[StorageNames.LabelMetadata]);
    }
}
