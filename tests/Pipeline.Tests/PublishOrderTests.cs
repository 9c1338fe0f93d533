using Flowers.Featurize;
using Flowers.Package;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowers.Pipeline.Tests;

/// <summary>models/current moves forward only, and only to a model that was tested.</summary>
public class PublishOrderTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly ModelRegistry _registry = storage.Services.GetRequiredService<ModelRegistry>();

    /// <summary>Each test starts with nothing published, whichever ran before.</summary>
    private Task ClearPointerAsync() =>
        storage.Services.GetRequiredService<FlowersStorage>().Models.GetBlobClient(StorageNames.CurrentModelPointer).DeleteIfExistsAsync();

    private async Task<ModelPackage> SaveAsync(string modelId, DateTimeOffset createdAt, int? testCount = null)
    {
        var (package, metrics) = SyntheticModel.Train(storage.Services.GetRequiredService<FeaturizerCatalog>().Default, modelId, perClass: 3);
        var manifest = package.Manifest with { CreatedAt = createdAt };
        if (testCount is { } n)
        {
            manifest = manifest with { Metrics = manifest.Metrics with { TestCount = n } };
            metrics = metrics with { TestCount = n };
        }
        var saved = new ModelPackage(manifest, package.Classifier);
        await _registry.SaveAsync(saved, metrics);
        return saved;
    }

    [Fact]
    public async Task A_retried_publish_of_an_older_model_leaves_the_newer_one_current()
    {
        await ClearPointerAsync();
        var now = DateTimeOffset.UtcNow;
        await SaveAsync("order-older", now.AddMinutes(-10));
        await SaveAsync("order-newer", now);
        await _registry.PublishAsync("order-older", now);
        Assert.Equal("order-newer", (await _registry.PublishAsync("order-newer", now)).ModelId);

        // The older run's publish again, as after a host was killed before its activity's result was recorded.
        var after = await _registry.PublishAsync("order-older", now.AddSeconds(1));
        var result = await new PublishActivity(_registry, NullLogger<PublishActivity>.Instance).RunAsync(new PublishInput("order-older", 0));

        Assert.Equal("order-newer", after.ModelId);
        Assert.Equal("order-newer", (await _registry.GetCurrentAsync())!.Value.Pointer.ModelId);
        Assert.False(result.Published);
        Assert.Contains("models/current names model order-newer, created later", result.Reason);
        // The pointer names the model's creation time and its package's hash.
        var pointer = (await _registry.GetCurrentAsync())!.Value.Pointer;
        Assert.Equal(now, pointer.ModelCreatedAt);
        Assert.Equal((await _registry.DownloadPackageAsync("order-newer")).Sha256, pointer.PackageSha256);
        Assert.Matches("^[0-9a-f]{64}$", pointer.PackageSha256);
    }

    [Fact]
    public async Task Publishes_at_once_end_with_the_newest_model_current()
    {
        await ClearPointerAsync();
        var now = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 4).Select(i => $"race-{i}").ToList();
        for (var i = 0; i < ids.Count; i++) await SaveAsync(ids[i], now.AddSeconds(i));

        // Each publish reads the pointer and writes it If-Match; a 412 makes it read again and decide again.
        await Task.WhenAll(ids.AsEnumerable().Reverse().Select(id => _registry.PublishAsync(id, DateTimeOffset.UtcNow)));

        Assert.Equal("race-3", (await _registry.GetCurrentAsync())!.Value.Pointer.ModelId);
    }

    [Fact]
    public async Task A_model_evaluated_on_no_test_photo_is_not_published()
    {
        await SaveAsync("untested", DateTimeOffset.UtcNow.AddHours(2), testCount: 0);
        var before = await _registry.GetCurrentETagAsync();

        var result = await new PublishActivity(_registry, NullLogger<PublishActivity>.Instance).RunAsync(new PublishInput("untested", 0));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _registry.PublishAsync("untested", DateTimeOffset.UtcNow));

        Assert.False(result.Published);
        Assert.Equal("model untested was evaluated on 0 test photos, so its accuracy says nothing; models/current was not changed", result.Reason);
        Assert.Contains("evaluated on 0 test photos", error.Message);
        Assert.Equal(before, await _registry.GetCurrentETagAsync());
    }
}
