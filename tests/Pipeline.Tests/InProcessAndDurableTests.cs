using Flowers.Runs;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Flowers.Pipeline.Tests;

/// <summary>
/// The two ways to train, on the same photos: the durable pipeline (photos in Blob Storage, featurized shard by shard)
/// and the in-process run (photos in a folder). Same split, features, chosen head and so the same accuracy and mistakes.
/// </summary>
public class InProcessAndDurableTests(PipelineHost host, ITestOutputHelper output) : IClassFixture<PipelineHost>
{
    [Fact]
    public async Task Both_paths_choose_the_same_head_and_reach_the_same_accuracy_on_the_same_split()
    {
        var folder = Directory.CreateTempSubdirectory("flowers-equal-").FullName;
        try
        {
            // Real photos when this machine has them (a slice of flowers128), drawn ones otherwise.
            var real = Path.Combine(TestRepository.Root, "..", "shared", "datasets", "flowers128");
            if (Directory.Exists(real))
                foreach (var classFolder in Directory.GetDirectories(real).Order(StringComparer.Ordinal))
                {
                    var target = Directory.CreateDirectory(Path.Combine(folder, Path.GetFileName(classFolder))).FullName;
                    foreach (var file in Directory.GetFiles(classFolder, "*.jpg").Order(StringComparer.Ordinal).Take(20))
                        File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
                }
            else SyntheticPhotos.WriteFolder(folder, perClass: 20, seed: 40);
            var datasets = host.Blobs.GetBlobContainerClient(StorageNames.Datasets);
            await datasets.CreateIfNotExistsAsync();
            foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
                await datasets.GetBlobClient(StorageNames.DatasetPhotoBlob("equal", Path.GetFileName(Path.GetDirectoryName(file)!), Path.GetFileName(file)))
                    .UploadAsync(file, overwrite: true);

            var run = await host.RunAsync("""{ "blobPrefix": "equal", "shardSize": 16 }""");
            PipelineHost.AssertCompleted(run);
            var durable = (await host.Services.GetRequiredService<ModelRegistry>().ReadMetricsAsync(run.ReadOutputAs<TrainingOutcome>()!.Metrics.ModelId))!;
            var local = await new InProcessRun().RunAsync(new RunOptions
            {
                Dataset = folder,
                OutputDirectory = Path.Combine(folder, "..", Path.GetFileName(folder) + "-out"),
                FeatureCacheDirectory = Path.Combine(folder, "..", Path.GetFileName(folder) + "-features"),
            });

            output.WriteLine($"durable {durable.Accuracy:P2} ({durable.HyperParameters?.Chosen}), in-process {local.Metrics.Accuracy:P2} ({local.Metrics.HyperParameters?.Chosen}) on {durable.TestCount} test photos");
            // Both choose the network's input size from the training photos: 1.25x their side, 128-288 px.
            var (side, size) = Directory.Exists(real) ? (128, 160) : (96, 128);
            Assert.Equal(new Flowers.Featurize.InputSizeChoice(side, Math.Min(durable.TrainCount, Flowers.Featurize.InputSizeChoice.Sample), size), durable.InputSize);
            Assert.Equal(durable.InputSize, local.Metrics.InputSize);
            Assert.Contains($"-{size}-", durable.Featurizer);
            Assert.Equal(durable.Featurizer, local.Metrics.Featurizer);
            Assert.Equal((durable.TrainCount, durable.TestCount), (local.Metrics.TrainCount, local.Metrics.TestCount));
            Assert.NotNull(durable.HyperParameters);
            Assert.Equal(durable.HyperParameters.Chosen, local.Metrics.HyperParameters!.Chosen);
            Assert.Equal(durable.HyperParameters.Candidates, local.Metrics.HyperParameters.Candidates);
            Assert.Equal(durable.Accuracy, local.Metrics.Accuracy, 6);
            Assert.Equal(durable.Misclassified.Select(m => (m.Image, m.Predicted)), local.Metrics.Misclassified.Select(m => (m.Image, m.Predicted)));
        }
        finally
        {
            foreach (var dir in new[] { folder, folder + "-out", folder + "-features" })
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
