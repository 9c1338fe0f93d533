using Flowers.Storage;
using Flowers.Testing;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace Flowers.Pipeline.Tests;

/// <summary>The whole orchestration on a slice of the real flower photos, when they are on this machine.</summary>
public class RealPhotosPipelineTests(PipelineHost host, ITestOutputHelper output) : IClassFixture<PipelineHost>
{
    private const int PerClass = 24;

    private static string? DatasetDirectory()
    {
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR"),
            Path.Combine(TestRepository.Root, "..", "shared", "datasets", "flowers128"),
        };
        return candidates.FirstOrDefault(d => !string.IsNullOrEmpty(d) && Directory.Exists(d));
    }

    [SkippableFact]
    public async Task A_run_on_real_photos_learns_the_flowers()
    {
        var root = DatasetDirectory();
        Skip.If(root is null, "real photos not found: set FLOWERS_DATASET_DIR or put flowers128 in ../shared/datasets");
        var datasets = host.Blobs.GetBlobContainerClient(StorageNames.Datasets);
        await datasets.CreateIfNotExistsAsync();
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        foreach (var photoClass in classes)
            foreach (var file in Directory.GetFiles(Path.Combine(root, photoClass!), "*.jpg").Order(StringComparer.Ordinal).Take(PerClass))
                await datasets.GetBlobClient(StorageNames.DatasetPhotoBlob("flowers128-slice", photoClass!, Path.GetFileName(file))).UploadAsync(file, overwrite: true);

        var run = await host.RunAsync("""{ "blobPrefix": "flowers128-slice", "shardSize": 32 }""");

        PipelineHost.AssertCompleted(run);
        var outcome = run.ReadOutputAs<TrainingOutcome>()!;
        output.WriteLine($"{outcome.Photos} real photos, {classes.Count} classes: accuracy {outcome.Metrics.Accuracy:P1} on {outcome.Metrics.TestCount} test photos");
        Assert.Equal(PerClass * classes.Count, outcome.Photos);
        Assert.True(outcome.Metrics.Accuracy > 0.5, $"accuracy {outcome.Metrics.Accuracy:P1} is barely above chance ({1.0 / classes.Count:P0})");
        Assert.NotNull(outcome.PublishedModelId);
    }
}
