using Azure.Storage.Blobs;
using Flowers.Featurize;
using Flowers.Labelling;
using Flowers.LocalHost;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>One Azurite of its own, with a model trained on synthetic photos published in it.</summary>
public sealed class PublishedModelStorage : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;
    public StorageTraffic Traffic { get; } = new();
    public ServiceProvider Services { get; private set; } = null!;
    public string ModelId { get; } = "synthetic-shapes-1";

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, Traffic);
        var (package, metrics) = SyntheticModel.Train(Services.GetRequiredService<FeaturizerCatalog>().Default, ModelId);
        var registry = Services.GetRequiredService<ModelRegistry>();
        await registry.SaveAsync(package, metrics);
        await registry.PublishAsync(ModelId, DateTimeOffset.UtcNow);
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

public class UploadLabellerTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly UploadLabeller _labeller = storage.Services.GetRequiredService<UploadLabeller>();
    private readonly FlowersStorage _containers = storage.Services.GetRequiredService<FlowersStorage>();

    [Fact]
    public async Task Fifty_uploads_get_fifty_results_each_written_exactly_once()
    {
        await _containers.EnsureContainersAsync();
        var uploads = Enumerable.Range(0, 50).Select(i => (Name: $"batch/photo-{i:00}.jpg", Class: SyntheticPhotos.Classes[i % 3], Seed: 2000 + i)).ToList();
        foreach (var u in uploads)
            await _containers.Uploads.GetBlobClient(u.Name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(u.Class, u.Seed)));
        var writesBefore = storage.Traffic.Count("PUT", $"/{StorageNames.Labels}/batch/");

        // The host would call the labeller once per upload, several at a time.
        await Parallel.ForEachAsync(uploads, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (u, ct) => await _labeller.LabelAsync(u.Name, ct));

        var results = new Dictionary<string, LabelResult>();
        await foreach (var blob in _containers.Labels.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = "batch/" }))
            results[blob.Name] = (await _containers.Labels.GetBlobClient(blob.Name).ReadAsync<LabelResult>())!;
        Assert.Equal(uploads.Select(u => u.Name + ".json").Order(), results.Keys.Order());
        Assert.Equal(50, storage.Traffic.Count("PUT", $"/{StorageNames.Labels}/batch/") - writesBefore);

        var correct = 0;
        foreach (var u in uploads)
        {
            var result = results[u.Name + ".json"];
            Assert.Null(result.Error);
            Assert.Equal(storage.ModelId, result.ModelId);
            Assert.Equal(u.Name, result.Upload);
            Assert.Equal(SyntheticPhotos.Classes.Order(), result.Probabilities!.Keys.Order());
            Assert.Equal(1.0, result.Probabilities.Values.Sum(), 3);
            Assert.Equal(result.Probabilities[result.Label!], result.Confidence!.Value, 6);
            var metadata = (await _containers.Uploads.GetBlobClient(u.Name).GetPropertiesAsync()).Value.Metadata;
            Assert.Equal(result.Label, metadata[StorageNames.LabelMetadata]);
            Assert.Equal(storage.ModelId, metadata[StorageNames.LabelModelMetadata]);
            if (result.Label == u.Class) correct++;
        }
        Assert.True(correct >= 45, $"only {correct} of 50 synthetic photos labelled right");

        // Re-delivery (and the trigger that setting the metadata causes) changes nothing.
        var etags = new Dictionary<string, Azure.ETag>();
        foreach (var name in results.Keys) etags[name] = (await _containers.Labels.GetBlobClient(name).GetPropertiesAsync()).Value.ETag;
        foreach (var u in uploads)
            Assert.Equal(results[u.Name + ".json"].Label, (await _labeller.LabelAsync(u.Name))!.Label);
        Assert.Equal(50, storage.Traffic.Count("PUT", $"/{StorageNames.Labels}/batch/") - writesBefore);
        foreach (var name in results.Keys) Assert.Equal(etags[name], (await _containers.Labels.GetBlobClient(name).GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task A_long_list_is_labelled_as_a_line_each_outcome_as_soon_as_it_is_done_with_few_uploads_claimed_ahead()
    {
        await _containers.EnsureContainersAsync();
        var names = Enumerable.Range(0, 60).Select(i => $"line/photo-{i:00}.jpg").ToList();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
            await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(SyntheticPhotos.Classes[i % 3], 5000 + i)));
        var labeller = new UploadLabeller(_containers, storage.Services.GetRequiredService<PublishedModel>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<UploadLabeller>.Instance) { MaxBatch = 4 };
        int Claimed() => storage.Traffic.Count("PUT", $"/{StorageNames.Claims}/line/");
        var before = Claimed();

        var outcomes = new List<UploadOutcome>();
        int? claimedAtFirstOutcome = null;
        await foreach (var outcome in labeller.LabelEachAsync(names))
        {
            claimedAtFirstOutcome ??= Claimed() - before;
            outcomes.Add(outcome);
        }

        Assert.Equal(names.Order(), outcomes.Select(o => o.Upload).Order());
        Assert.All(outcomes, o => Assert.NotNull(o.Result?.Label));
        Assert.Equal(60, Claimed() - before);
        // Two passes of 4 ahead of the featurizer, the pass being featurized and the one finishing, not the whole list.
        Assert.InRange(claimedAtFirstOutcome!.Value, 1, 6 * labeller.MaxBatch);
    }

    [Theory]
    [InlineData("notes.txt", false)]
    [InlineData("broken.jpg", true)]
    [InlineData("empty.png", false)]
    public async Task A_file_that_is_not_a_readable_image_gets_a_result_that_says_why(string name, bool truncatedJpeg)
    {
        await _containers.EnsureContainersAsync();
        var bytes = truncatedJpeg ? SyntheticPhotos.Jpeg("circle", 1)[..300]
            : name.StartsWith("empty") ? [] : SyntheticPhotos.NotAPhoto();
        await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(bytes));

        var result = await _labeller.LabelAsync(name);

        Assert.NotNull(result);
        Assert.Null(result.Label);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.False(result.Pending);
        var stored = await _containers.Labels.GetBlobClient(name + ".json").ReadAsync<LabelResult>();
        Assert.Equal(result.Error, stored.Error);
        var metadata = (await _containers.Uploads.GetBlobClient(name).GetPropertiesAsync()).Value.Metadata;
        Assert.True(metadata.ContainsKey(StorageNames.LabelErrorMetadata));
        Assert.False(metadata.ContainsKey(StorageNames.LabelMetadata));

        var writes = storage.Traffic.Count("PUT", $"/{StorageNames.Labels}/{name}");
        await _labeller.LabelAsync(name); // a re-delivery neither throws nor writes again
        Assert.Equal(writes, storage.Traffic.Count("PUT", $"/{StorageNames.Labels}/{name}"));
    }

    [Fact]
    public async Task An_upload_deleted_before_it_is_labelled_is_left_alone() =>
        Assert.Null(await _labeller.LabelAsync("gone.jpg"));
}

/// <summary>An Azurite of its own with no model published at first.</summary>
public sealed class EmptyStorage : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;
    public StorageTraffic Traffic { get; } = new();
    public ServiceProvider Services { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, Traffic);
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

public class PendingUploadTests(EmptyStorage storage) : IClassFixture<EmptyStorage>
{
    [Fact]
    public async Task Photos_uploaded_before_any_model_are_labelled_once_one_is_published_and_later_models_take_over()
    {
        var services = storage.Services;
        var containers = services.GetRequiredService<FlowersStorage>();
        var registry = services.GetRequiredService<ModelRegistry>();
        var featurizer = services.GetRequiredService<FeaturizerCatalog>().Default;
        // A labeller that looks at models/current on every call, to see a new model without waiting.
        var labeller = new UploadLabeller(containers,
            new PublishedModel(registry, services.GetRequiredService<FeaturizerCatalog>(), Logging<PublishedModel>()) { CheckEvery = TimeSpan.Zero },
            Logging<UploadLabeller>());
        await containers.EnsureContainersAsync();

        var early = Enumerable.Range(0, 5).Select(i => $"early/{i}.jpg").ToList();
        foreach (var (name, i) in early.Select((n, i) => (n, i)))
        {
            await containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(SyntheticPhotos.Classes[i % 3], 3000 + i)));
            var pending = await labeller.LabelAsync(name);
            Assert.True(pending!.Pending);
            Assert.Equal(UploadLabeller.NoModelYet, pending.Error);
        }
        Assert.Equal(0, (await labeller.LabelPendingAsync()).Labelled);

        var (first, metrics) = SyntheticModel.Train(featurizer, "synthetic-first");
        await registry.SaveAsync(first, metrics);
        await registry.PublishAsync(first.ModelId, DateTimeOffset.UtcNow);

        Assert.Equal(new PendingLabelling(5, 0), await labeller.LabelPendingAsync());
        foreach (var name in early)
        {
            var result = await containers.Labels.GetBlobClient(name + ".json").ReadAsync<LabelResult>();
            Assert.False(result.Pending);
            Assert.NotNull(result.Label);
            Assert.Equal("synthetic-first", result.ModelId);
        }
        Assert.Equal(0, (await labeller.LabelPendingAsync()).Labelled); // nothing left

        // A newly published model is used for the next upload.
        var second = new Package.ModelPackage(first.Manifest with { ModelId = "synthetic-second" }, first.Classifier);
        await registry.SaveAsync(second, metrics);
        await registry.PublishAsync(second.ModelId, DateTimeOffset.UtcNow);
        await containers.Uploads.GetBlobClient("late.jpg").UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("square", 3100)));
        Assert.Equal("synthetic-second", (await labeller.LabelAsync("late.jpg"))!.ModelId);
    }

    [Fact]
    public async Task Publishing_refuses_a_model_with_a_missing_file()
    {
        var registry = storage.Services.GetRequiredService<ModelRegistry>();
        var containers = storage.Services.GetRequiredService<FlowersStorage>();
        await containers.EnsureContainersAsync();
        await containers.Models.GetBlobClient(StorageNames.ModelBlob("half-written", StorageNames.MetricsFile)).UploadAsync(new BinaryData("{}"), overwrite: true);
        var before = await registry.GetCurrentETagAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.PublishAsync("half-written", DateTimeOffset.UtcNow));

        Assert.Contains("missing", error.Message);
        Assert.Equal(before, await registry.GetCurrentETagAsync());
    }

    private static Microsoft.Extensions.Logging.ILogger<T> Logging<T>() => Microsoft.Extensions.Logging.Abstractions.NullLogger<T>.Instance;
}
