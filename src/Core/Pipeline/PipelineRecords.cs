using Flowers.Train;

namespace Flowers.Pipeline;

// What the orchestrator passes to and gets from its activities: names and counts, never photos or features.

public sealed record IngestInput(string Dataset, string? SourceUrl, double TestFraction, int Seed, int ShardSize);

/// <param name="ManifestBlob">The split manifest in the datasets container.</param>
/// <param name="Uploaded">Photos written to Blob Storage by this run (0 on a re-run of the same source).</param>
public sealed record IngestResult(
    string Dataset, string ManifestBlob, string DatasetFingerprint, int Classes, int Photos,
    int TrainCount, int TestCount, int Skipped, int Uploaded, int ShardCount);

public sealed record FeaturizeShardInput(string Dataset, string ManifestBlob, int ShardIndex, int ShardCount);

public sealed record FeatureShardsInput(string Dataset, string ManifestBlob, int ShardCount);

/// <param name="ShardBlob">The FeatureShard blob in the features container.</param>
/// <param name="Featurized">Photos featurized by this call: 0 when the shard was already there.</param>
public sealed record FeaturizeShardResult(string ShardBlob, int Photos, int Featurized, int Skipped);

public sealed record TrainInput(
    string Dataset, string ManifestBlob, IReadOnlyList<string> ShardBlobs, string ModelId, string DatasetFingerprint,
    TrainerOptions Trainer, double AcquireSeconds, double FeaturizeSeconds, int PhotosFeaturized, DateTime StartedAt);

public sealed record TrainResult(
    string ModelId, double Accuracy, double MacroAccuracy, double LogLoss, int TrainCount, int TestCount, int Skipped);

public sealed record PublishInput(string ModelId, double MinAccuracy);

/// <param name="Reason">Why the model was not published (the gate), null when it was.</param>
public sealed record PublishResult(string ModelId, bool Published, string? Reason);

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
    string? PublishedModelId, string? NotPublishedReason, int UploadsLabelled, StageSeconds? Seconds = null);

/// <summary>Where a run's time went, stage by stage (from the orchestration's replay-safe clock).</summary>
public sealed record StageSeconds(double Ingest, double Featurize, double Train, double Publish, double LabelUploads)
{
    public double Total => Ingest + Featurize + Train + Publish + LabelUploads;
}
