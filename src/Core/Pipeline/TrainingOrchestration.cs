using Flowers.Acquire;
using Flowers.Runs;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

// The orchestration's custom status and output: names and counts, never photos or features.

/// <summary>The orchestration's custom status: where a run is, for GET /api/training/{id}.</summary>
public sealed record TrainingProgress(string Stage, int ShardsDone, int ShardsTotal, int PhotosDone, int PhotosTotal)
{
    public static TrainingProgress Starting(string stage) => new(stage, 0, 0, 0, 0);
}

/// <summary>The orchestration's output.</summary>
/// <param name="PhotosUploaded">Photos ingest wrote to Blob Storage (0 when the same source was ingested before).</param>
/// <param name="PhotosFeaturized">Photos featurized by this run (0 when every shard was already there).</param>
/// <param name="Seconds">Wall-clock seconds per stage, scheduling between activities included.</param>
public sealed record TrainingOutcome(
    string Dataset, int Photos, int PhotosUploaded, int PhotosFeaturized, TrainResult Metrics,
    string? PublishedModelId, string? NotPublishedReason, int UploadsLabelled, StageSeconds? Seconds = null,
    int UploadsFailed = 0);

/// <summary>Where a run's time went, stage by stage (from the orchestration's replay-safe clock).</summary>
public sealed record StageSeconds(double Ingest, double Featurize, double Train, double Publish, double LabelUploads)
{
    public double Total => Ingest + Featurize + Train + Publish + LabelUploads;
}

/// <summary>
/// The training pipeline: ingest → featurize (fan-out over shards) → train + evaluate → publish → label
/// waiting uploads. Written against TaskOrchestrationContext only, so the Functions host and a plain
/// Durable Task worker run the same code. Replays must be deterministic: time and ids come from the context.
/// </summary>
public static class TrainingOrchestration
{
    public const string Name = "TrainingOrchestrator";

    /// <summary>Transient faults (storage throttling, a restarted instance) are retried. A data set that cannot be
    /// used is not retried, and a photo that cannot be decoded is no fault at all (its shard lists it as skipped).</summary>
    public static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 3)
    {
        HandleFailure = IsRetried,
    });

    public static bool IsRetried(TaskFailureDetails failure) =>
        !failure.IsCausedBy<UnusableDatasetException>() && !failure.IsCausedBy<UnsafeArchiveException>()
        && !failure.IsCausedBy<RefusedSourceException>() && !failure.IsCausedBy<Flowers.Train.TrainerUnavailableException>();

    public static async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, TrainingRequest request)
    {
        var log = context.CreateReplaySafeLogger(nameof(TrainingOrchestration));
        var started = context.CurrentUtcDateTime;

        context.SetCustomStatus(TrainingProgress.Starting(TrainingStages.Ingest));
        var ingest = await context.CallActivityAsync<IngestResult>(IngestActivity.Name,
            new IngestInput(request.Dataset, request.SourceUrl, request.TestFraction, request.Seed, request.ShardSize, request.InputSize), Retry);
        log.LogInformation("Ingested {Dataset}: {Photos} photos, {Shards} shards, input size {InputSize}", ingest.Dataset, ingest.Photos, ingest.ShardCount, ingest.InputSize);
        var inputSize = ingest.InputSize.Chosen;
        var ingested = context.CurrentUtcDateTime;

        var progress = new TrainingProgress(TrainingStages.Featurize, 0, ingest.ShardCount, 0, ingest.Photos);
        context.SetCustomStatus(progress);
        var shards = await context.CallActivityAsync<FeaturizeShardResult?[]>(FeaturizeShardActivity.FindDoneName,
            new FeatureShardsInput(ingest.Dataset, ingest.ManifestBlob, ingest.ShardCount, inputSize), Retry);
        progress = progress with { ShardsDone = shards.Count(s => s is not null), PhotosDone = shards.Sum(s => s?.Photos ?? 0) };
        context.SetCustomStatus(progress);
        var running = Enumerable.Range(0, ingest.ShardCount).Where(shard => shards[shard] is null).ToDictionary(
            shard => context.CallActivityAsync<FeaturizeShardResult>(FeaturizeShardActivity.Name,
                new FeaturizeShardInput(ingest.Dataset, ingest.ManifestBlob, shard, ingest.ShardCount, inputSize), Retry));
        while (running.Count > 0)
        {
            var done = await Task.WhenAny(running.Keys);
            shards[running[done]] = await done;
            running.Remove(done);
            progress = progress with { ShardsDone = progress.ShardsDone + 1, PhotosDone = progress.PhotosDone + done.Result.Photos };
            context.SetCustomStatus(progress);
        }
        var featurized = context.CurrentUtcDateTime;

        context.SetCustomStatus(progress with { Stage = TrainingStages.Train });
        var model = await context.CallActivityAsync<TrainResult>(TrainAndEvaluateActivity.Name, new TrainInput(
            ingest.Dataset, ingest.ManifestBlob, shards.Select(s => s!.ShardBlob).ToList(), NewModelId(context, ingest.Dataset),
            ingest.DatasetFingerprint, request.Trainer, (ingested - started).TotalSeconds, (featurized - ingested).TotalSeconds,
            shards.Sum(s => s!.Featurized), started, ingest.InputSize), Retry);

        context.SetCustomStatus(progress with { Stage = TrainingStages.Publish });
        var trained = context.CurrentUtcDateTime;
        var publish = await context.CallActivityAsync<PublishResult>(PublishActivity.Name, new PublishInput(model.ModelId, request.MinAccuracy), Retry);
        var published = context.CurrentUtcDateTime;
        var labelled = new Flowers.Labelling.PendingLabelling(0, 0);
        if (publish.Published)
        {
            context.SetCustomStatus(progress with { Stage = TrainingStages.LabelUploads });
            labelled = await context.CallActivityAsync<Flowers.Labelling.PendingLabelling>(LabelPendingUploadsActivity.Name, model.ModelId, Retry);
            if (labelled.Failed > 0)
                log.LogWarning("{Failed} waiting uploads could not be labelled (the activity's log names them); they stay pending", labelled.Failed);
        }
        else log.LogWarning("Model {ModelId} not published: {Reason}", model.ModelId, publish.Reason);

        context.SetCustomStatus(progress with { Stage = TrainingStages.Done });
        var seconds = new StageSeconds((ingested - started).TotalSeconds, (featurized - ingested).TotalSeconds,
            (trained - featurized).TotalSeconds, (published - trained).TotalSeconds, (context.CurrentUtcDateTime - published).TotalSeconds);
        return new TrainingOutcome(ingest.Dataset, ingest.Photos, ingest.Uploaded, shards.Sum(s => s!.Featurized), model,
            publish.Published ? model.ModelId : null, publish.Reason, labelled.Labelled, seconds, labelled.Failed);
    }

    /// <summary>"{dataset}-{yyyyMMdd-HHmmss}-{6 hex}": sortable, unique, and the same on every replay.</summary>
    private static string NewModelId(TaskOrchestrationContext context, string dataset) =>
        $"{dataset.Replace('_', '-')}-{context.CurrentUtcDateTime:yyyyMMdd-HHmmss}-{context.NewGuid():N}"[..(dataset.Length + 23)];
}
