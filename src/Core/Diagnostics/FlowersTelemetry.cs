using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flowers.Labelling;

namespace Flowers.Diagnostics;

/// <summary>
/// The app's own telemetry: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. Spans for each stage of a training run and for labelling one upload; a histogram of
/// label latency, one of stage durations (tagged by stage) and counters of photos labelled and failed.
/// Nothing is recorded unless a listener (OpenTelemetry in the Functions worker, a test) subscribes to the name.
/// See docs/functions.md, "Telemetry".
/// </summary>
public static class FlowersTelemetry
{
    public const string Name = "Flowers";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>The stages of a training run, as tagged on their spans and durations.</summary>
    public static class Stages
    {
        public const string Ingest = "ingest";
        public const string Acquire = "acquire"; // the download and unpacking inside ingest, when the run names a source
        public const string Featurize = "featurize";
        public const string Train = "train";
        public const string Publish = "publish";
    }

    /// <summary>Tag names on spans and measurements.</summary>
    public static class Tags
    {
        public const string Stage = "flowers.stage";
        public const string Outcome = "flowers.outcome";
        public const string Dataset = "flowers.dataset";
        public const string Shard = "flowers.shard";
        public const string ModelId = "flowers.model.id";
        public const string Upload = "flowers.upload.name";
        public const string Label = "flowers.label";
        public const string ErrorType = "error.type"; // OpenTelemetry's semantic convention
    }

    /// <summary>Outcomes of labelling one upload (span tag and metric tag).</summary>
    public static class LabelOutcomes
    {
        public const string Labelled = "labelled";
        public const string Failed = "failed";       // a result that says why the photo has no label (not an image, too large)
        public const string Pending = "pending";     // no model yet
        public const string Unchanged = "unchanged"; // already labelled by this model (a re-delivered trigger)
        public const string Gone = "gone";           // deleted before it was labelled
        public const string Error = "error";         // an exception: the trigger retries it
        public const string Superseded = "superseded"; // replaced while its batch was labelled: labelled again on its own
    }

    public static readonly Histogram<double> LabelDuration = Meter.CreateHistogram<double>(
        "flowers.label.duration", "s", "Time to label one upload, from its trigger to its result written");

    public static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>(
        "flowers.training.stage.duration", "s", "Time of one training stage (one shard for featurize), tagged by stage and outcome");

    public static readonly Counter<long> PhotosLabelled = Meter.CreateCounter<long>(
        "flowers.photos.labelled", "{photo}", "Uploads that got a label");

    public static readonly Counter<long> PhotosFailed = Meter.CreateCounter<long>(
        "flowers.photos.failed", "{photo}", "Uploads whose labelling gave an error result or threw");

    /// <summary>
    /// Runs one training stage in a span named flowers.{stage}, and records its duration tagged by stage and
    /// outcome ("ok", "error", or what <paramref name="outcome"/> makes of the result).
    /// </summary>
    public static async Task<T> StageAsync<T>(string stage, string? dataset, Func<Task<T>> run,
        int? shard = null, string? modelId = null, Func<T, string>? outcome = null)
    {
        using var span = Source.StartActivity($"flowers.{stage}");
        span?.SetTag(Tags.Stage, stage);
        span?.SetTag(Tags.Dataset, dataset);
        if (shard is not null) span?.SetTag(Tags.Shard, shard);
        if (modelId is not null) span?.SetTag(Tags.ModelId, modelId);
        var started = Stopwatch.GetTimestamp();
        var result = "error";
        try
        {
            var value = await run();
            result = outcome?.Invoke(value) ?? "ok";
            return value;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            span?.SetTag(Tags.ErrorType, e.GetType().FullName);
            throw;
        }
        finally
        {
            span?.SetTag(Tags.Outcome, result);
            StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>(Tags.Stage, stage), new KeyValuePair<string, object?>(Tags.Outcome, result));
        }
    }

    /// <summary>Starts the span and clock of labelling one upload; dispose it when the labelling ends.</summary>
    public static Labelling StartLabelling(string uploadName) => new(uploadName);

    /// <summary>
    /// One upload's labelling: <see cref="Done"/> (or <see cref="Unchanged"/>) gives it its outcome; disposed
    /// without one (an exception), it counts as an error. Disposing records the span, the duration and the counters.
    /// </summary>
    public sealed class Labelling : IDisposable
    {
        private readonly Activity? _span;
        private readonly long _started = Stopwatch.GetTimestamp();
        private string? _outcome;
        private LabelResult? _result;

        internal Labelling(string uploadName)
        {
            _span = Source.StartActivity("flowers.label");
            _span?.SetTag(Tags.Upload, uploadName);
        }

        /// <summary>The labelling ended with this result (null: the upload is gone).</summary>
        public LabelResult? Done(LabelResult? result)
        {
            _result = result;
            _outcome ??= result switch
            {
                null => LabelOutcomes.Gone,
                { Pending: true } => LabelOutcomes.Pending,
                { Label: not null } => LabelOutcomes.Labelled,
                _ => LabelOutcomes.Failed,
            };
            return result;
        }

        /// <summary>The upload already had this model's result: nothing was labelled (not counted again).</summary>
        public LabelResult Unchanged(LabelResult earlier)
        {
            _outcome = LabelOutcomes.Unchanged;
            return earlier;
        }

        /// <summary>The upload changed while its batch was labelled; it is labelled again on its own (its own span).</summary>
        public void Superseded() => _outcome = LabelOutcomes.Superseded;

        /// <summary>Called from an exception filter: records the error and returns false, so nothing is caught.</summary>
        public bool Threw(Exception e)
        {
            _span?.SetStatus(ActivityStatusCode.Error, e.Message);
            _span?.SetTag(Tags.ErrorType, e.GetType().FullName);
            return false;
        }

        public void Dispose()
        {
            var outcome = _outcome ?? LabelOutcomes.Error;
            var tag = new KeyValuePair<string, object?>(Tags.Outcome, outcome);
            LabelDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tag);
            if (outcome == LabelOutcomes.Labelled) PhotosLabelled.Add(1, tag);
            else if (outcome is LabelOutcomes.Failed or LabelOutcomes.Error) PhotosFailed.Add(1, tag);
            if (_span is null) return;
            _span.SetTag(Tags.Outcome, outcome);
            if (_result is not null)
            {
                _span.SetTag(Tags.ModelId, _result.ModelId);
                _span.SetTag(Tags.Label, _result.Label);
            }
            _span.Dispose();
        }
    }
}
