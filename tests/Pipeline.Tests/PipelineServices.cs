using Azure.Core;
using Azure.Storage.Blobs;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.LocalHost;
using Flowers.Package;
using Flowers.Storage;
using Flowers.Testing;
using Flowers.Train;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>The app's real services against one Azurite, with a <see cref="StorageTraffic"/> policy in the storage client.</summary>
public static class PipelineServices
{
    /// <summary>One set of ONNX sessions for every test class in the process (as one app process has one).</summary>
    private static readonly FeaturizerCatalog Featurizers = new(new FeaturizerOptions());

    public static ServiceProvider Build(Azurite azurite, StorageTraffic traffic, TrainingSettings? settings = null,
        Azure.Core.Pipeline.HttpPipelinePolicy? alsoPolicy = null)
    {
        var options = new BlobClientOptions();
        options.AddPolicy(traffic, HttpPipelinePosition.PerCall);
        if (alsoPolicy is not null) options.AddPolicy(alsoPolicy, HttpPipelinePosition.PerCall);
        return new ServiceCollection()
            .AddLogging()
            .AddSingleton(new BlobServiceClient(azurite.ConnectionString, options))
            .AddTrainingPipeline(settings ?? new TrainingSettings { TransferParallelism = 4 })
            .AddSingleton(Featurizers)
            .BuildServiceProvider();
    }

    /// <summary>Uploads synthetic photos to datasets/{dataset}/{class}/{n}.jpg (as a user would before POSTing a blobPrefix).</summary>
    public static async Task UploadDatasetAsync(BlobServiceClient service, string dataset, IReadOnlyList<string> classes, int perClass, int seed,
        Func<string, string>? drawAs = null)
    {
        var container = service.GetBlobContainerClient(StorageNames.Datasets);
        await container.CreateIfNotExistsAsync();
        foreach (var (photoClass, c) in classes.Select((name, c) => (name, c)))
            for (var i = 0; i < perClass; i++)
                await container.GetBlobClient(StorageNames.DatasetPhotoBlob(dataset, photoClass, $"{i:000}.jpg"))
                    .UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(drawAs?.Invoke(photoClass) ?? photoClass, seed + 1000 * c + i)), overwrite: true);
    }
}

/// <summary>A real model trained on synthetic photos with the real stages (featurize, train, evaluate, package).</summary>
public static class SyntheticModel
{
    public static (ModelPackage Package, RunMetrics Metrics) Train(PhotoFeaturizer featurizer, string modelId, int perClass = 8)
    {
        var classes = SyntheticPhotos.Classes;
        List<LabeledFeatures> Photos(int firstSeed, int count) =>
            classes.SelectMany(c => Enumerable.Range(firstSeed, count)
                .Select(seed => new LabeledFeatures($"{c}/{seed}.jpg", c, featurizer.Featurize(SyntheticPhotos.Jpeg(c, seed))))).ToList();
        var train = Photos(500, perClass);
        var test = Photos(900, 3);
        var (options, _) = HyperParameterSearch.Resolve(classes, train, new TrainerOptions(), featurizer.Options.StageChannels);
        var classifier = ClassifierTrainer.Train(classes, train, options, featurizer.Options.StageChannels);
        var metrics = Evaluator.Evaluate(classifier, test)
            .ToRunMetrics(train.Count, [], featurizer.Id, classifier.Trainer, new RunTimings(0, 0, 0, 0), 0);
        var manifest = new ModelManifest
        {
            ModelId = modelId,
            Classes = classifier.Classes,
            Featurizer = featurizer.Options,
            FeaturizerId = featurizer.Id,
            Trainer = classifier.Trainer,
            TrainerOptions = options,
            Metrics = MetricsSummary.From(metrics),
            DatasetFingerprint = "synthetic",
            CreatedAt = DateTimeOffset.UtcNow,
        };
        return (new ModelPackage(manifest, classifier), metrics);
    }
}
