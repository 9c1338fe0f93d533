using Flowers.Featurize;
using Flowers.Labelling;
using Flowers.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline;

/// <summary>
/// Wiring of the pipeline: the services its activities need, and the orchestrator and activities registered
/// into any Durable Task worker (the Functions host registers the same methods through its own functions).
/// </summary>
public static class TrainingPipeline
{
    /// <summary>
    /// Registers storage, the model registry, the featurizers, the activities, the labeller and the HTTP API.
    /// The caller registers the <see cref="Azure.Storage.Blobs.BlobServiceClient"/> and logging.
    /// </summary>
    public static IServiceCollection AddTrainingPipeline(this IServiceCollection services,
        TrainingSettings? settings = null, FeaturizerOptions? featurizer = null)
    {
        services.AddSingleton(settings ?? new TrainingSettings());
        services.AddSingleton(new FeaturizerCatalog(featurizer ?? new FeaturizerOptions()));
        services.AddSingleton<FlowersStorage>();
        services.AddSingleton<DatasetPhotos>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<PublishedModel>();
        services.AddSingleton<UploadLabeller>();
        services.AddSingleton<ModelWarmup>();
        services.AddSingleton<TrainingRuns>();
        services.AddSingleton<Flowers.Api.FlowersApi>();
        services.AddSingleton<IngestActivity>();
        services.AddSingleton<SplitManifests>();
        services.AddSingleton<RecentFeatureShards>();
        services.AddSingleton<FeaturizeShardActivity>();
        services.AddSingleton<TrainAndEvaluateActivity>();
        services.AddSingleton<PublishActivity>();
        services.AddSingleton<LabelPendingUploadsActivity>();
        return services;
    }

    /// <summary>Registers the orchestrator and every activity under the names the Functions app uses.</summary>
    public static DurableTaskRegistry AddTrainingPipeline(this DurableTaskRegistry registry, IServiceProvider services)
    {
        registry.AddOrchestratorFunc<TrainingRequest, TrainingOutcome>(TrainingOrchestration.Name, TrainingOrchestration.RunAsync);
        registry.AddActivityFunc<IngestInput, IngestResult>(IngestActivity.Name,
            (_, input) => services.GetRequiredService<IngestActivity>().RunAsync(input));
        registry.AddActivityFunc<FeatureShardsInput, FeaturizeShardResult?[]>(FeaturizeShardActivity.FindDoneName,
            (_, input) => services.GetRequiredService<FeaturizeShardActivity>().FindDoneAsync(input));
        registry.AddActivityFunc<FeaturizeShardInput, FeaturizeShardResult>(FeaturizeShardActivity.Name,
            (_, input) => services.GetRequiredService<FeaturizeShardActivity>().RunAsync(input));
        registry.AddActivityFunc<TrainInput, TrainResult>(TrainAndEvaluateActivity.Name,
            (_, input) => services.GetRequiredService<TrainAndEvaluateActivity>().RunAsync(input));
        registry.AddActivityFunc<PublishInput, PublishResult>(PublishActivity.Name,
            (_, input) => services.GetRequiredService<PublishActivity>().RunAsync(input));
        registry.AddActivityFunc<string?, Flowers.Labelling.PendingLabelling>(LabelPendingUploadsActivity.Name,
            (_, input) => services.GetRequiredService<LabelPendingUploadsActivity>().RunAsync(input));
        return registry;
    }
}
