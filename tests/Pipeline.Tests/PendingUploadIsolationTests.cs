using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>The pass over waiting uploads after a publish: one upload that cannot be labelled costs only itself.</summary>
public class PendingUploadIsolationTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly UploadLabeller _labeller = storage.Services.GetRequiredService<UploadLabeller>();
    private readonly FlowersStorage _containers = storage.Services.GetRequiredService<FlowersStorage>();

    [Fact]
    public async Task An_upload_whose_label_name_is_too_long_gets_an_error_and_the_others_are_labelled()
    {
        await _containers.EnsureContainersAsync();
        // 1020 characters is a valid upload name; labels/{name}.json is 1025, over Blob Storage's 1024.
        var longName = "long/" + new string('a', 1015);
        var good = new[] { "long-batch/0.jpg", "long-batch/1.jpg" };
        await _containers.Uploads.GetBlobClient(longName).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("circle", 4000)));
        foreach (var name in good)
            await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("square", 4001)));

        var pass = await _labeller.LabelPendingAsync();

        Assert.Equal(0, pass.Failed);
        foreach (var name in good)
            Assert.NotNull((await _containers.Labels.GetBlobClient(name + ".json").ReadAsync<LabelResult>())!.Label);
        var refused = await _labeller.LabelAsync(longName);
        Assert.Contains("name is too long", refused!.Error);
        // Marked on the upload itself (there is no result blob to write), so later passes leave it alone.
        var metadata = (await _containers.Uploads.GetBlobClient(longName).GetPropertiesAsync()).Value.Metadata;
        Assert.Contains("too long", Uri.UnescapeDataString(metadata[StorageNames.LabelErrorMetadata]));
        Assert.Equal(0, (await _labeller.LabelPendingAsync()).Labelled);
    }

    [Fact]
    public async Task An_upload_that_fails_is_counted_and_logged_and_the_others_are_labelled()
    {
        await _containers.EnsureContainersAsync();
        var names = Enumerable.Range(0, 4).Select(i => $"fail-batch/{i}.jpg").ToList();
        foreach (var name in names)
            await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("circle", 4100)));
        // Every download of the first upload fails, as a blob the storage refuses to serve would.
        storage.Traffic.FailNext(m => m.Request.Method.ToString() == "GET" && m.Request.Uri.Path.EndsWith("/uploads/fail-batch/0.jpg"), times: 100);

        var pass = await _labeller.LabelPendingAsync();

        Assert.Equal(1, pass.Failed);
        Assert.Equal(3, pass.Labelled);
        foreach (var name in names.Skip(1))
            Assert.NotNull((await _containers.Labels.GetBlobClient(name + ".json").ReadAsync<LabelResult>())!.Label);
        await _containers.Uploads.GetBlobClient(names[0]).DeleteAsync(); // still pending: the class's other test would see it
    }
}
