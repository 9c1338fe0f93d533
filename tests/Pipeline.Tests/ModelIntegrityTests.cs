using Flowers.Featurize;
using Flowers.Labelling;
using Flowers.Package;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline.Tests;

/// <summary>The labeller uses a published package only as it was published, with the host's decode limits.</summary>
public class ModelIntegrityTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly ModelRegistry _registry = storage.Services.GetRequiredService<ModelRegistry>();
    private readonly FlowersStorage _containers = storage.Services.GetRequiredService<FlowersStorage>();
    private readonly FeaturizerCatalog _featurizers = storage.Services.GetRequiredService<FeaturizerCatalog>();

    private sealed class Lines : ILoggerProvider, ILogger
    {
        public readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Text)> All = new();
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            All.Enqueue((logLevel, formatter(state, exception)));
        public void Dispose() { }
    }

    private (PublishedModel Model, Lines Log) NewPublishedModel()
    {
        var lines = new Lines();
        return (new PublishedModel(_registry, _featurizers, new LoggerFactory([lines]).CreateLogger<PublishedModel>()), lines);
    }

    private async Task<ModelPackage> PublishNewAsync(string modelId, Func<ModelManifest, ModelManifest>? change = null)
    {
        var (package, metrics) = SyntheticModel.Train(_featurizers.Default, modelId, perClass: 3);
        var saved = new ModelPackage((change ?? (m => m))(package.Manifest with { CreatedAt = DateTimeOffset.UtcNow }), package.Classifier);
        await _registry.SaveAsync(saved, metrics);
        Assert.Equal(modelId, (await _registry.PublishAsync(modelId, DateTimeOffset.UtcNow)).ModelId);
        return saved;
    }

    private async Task TamperAsync(string modelId)
    {
        // Another valid package under the same name: loads fine, but is not what was published.
        var (other, _) = SyntheticModel.Train(_featurizers.Default, modelId, perClass: 2);
        using var zip = new MemoryStream();
        other.WriteTo(zip);
        await _containers.Models.GetBlobClient(StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile)).UploadAsync(new BinaryData(zip.ToArray()), overwrite: true);
    }

    [Fact]
    public async Task A_package_changed_after_publishing_is_refused_naming_both_hashes()
    {
        await PublishNewAsync("tampered");
        var published = (await _registry.GetCurrentAsync())!.Value.Pointer.PackageSha256!;
        await TamperAsync("tampered");
        var (model, log) = NewPublishedModel();

        var error = await Assert.ThrowsAsync<ModelPackageException>(() => model.GetAsync());

        var actual = (await _registry.DownloadPackageAsync("tampered")).Sha256;
        Assert.NotEqual(published, actual);
        Assert.Contains($"has SHA-256 {actual}, but models/current was published with {published}", error.Message);
        Assert.Contains(log.All, l => l.Level == LogLevel.Error && l.Text.Contains(actual) && l.Text.Contains(published));
    }

    [Fact]
    public async Task A_new_model_that_cannot_load_leaves_the_previous_one_labelling()
    {
        await PublishNewAsync("good-before");
        var (model, log) = NewPublishedModel();
        Assert.Equal("good-before", (await model.GetAsync())!.ModelId);
        await PublishNewAsync("broken-after");
        await TamperAsync("broken-after");

        var classifier = await model.GetAsync(recheck: true);

        Assert.Equal("good-before", classifier!.ModelId);
        Assert.Contains(log.All, l => l.Level == LogLevel.Error && l.Text.Contains("Published model broken-after cannot be used")
            && l.Text.Contains("labelling goes on with model good-before"));
        Assert.NotNull(classifier.Classify(SyntheticPhotos.Jpeg("circle", 6000)).Label);
    }

    [Fact]
    public async Task Decode_limits_come_from_the_host_not_from_the_package()
    {
        // A manifest that would switch the decompression-bomb guard off.
        await PublishNewAsync("no-limits", m => m with { Featurizer = m.Featurizer with { Limits = new PhotoLimits(long.MaxValue, int.MaxValue) } });
        var (model, _) = NewPublishedModel();
        var classifier = (await model.GetAsync())!;

        var error = Assert.Throws<PhotoRejectedException>(() => classifier.Classify(SyntheticPhotos.PngHeaderOnly(50000, 50000)));

        Assert.StartsWith("too large: 50000x50000 pixels", error.Reason);
    }

    [Fact]
    public async Task A_pointer_without_a_hash_from_an_earlier_version_is_accepted_with_a_warning()
    {
        await PublishNewAsync("old-pointer");
        await _containers.Models.GetBlobClient(StorageNames.CurrentModelPointer)
            .UploadAsync(new BinaryData("""{"modelId":"old-pointer","publishedAt":"2026-01-01T00:00:00+00:00"}"""), overwrite: true);
        var (model, log) = NewPublishedModel();

        Assert.Equal("old-pointer", (await model.GetAsync())!.ModelId);
        Assert.Contains(log.All, l => l.Level == LogLevel.Warning && l.Text.Contains("without a package hash"));
    }
}
