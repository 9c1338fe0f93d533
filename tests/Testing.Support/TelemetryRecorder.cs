using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flowers.Diagnostics;

namespace Flowers.Testing;

/// <summary>
/// Records what Core's "Flowers" source and meter emit while it lives (an <see cref="ActivityListener"/> and a
/// <see cref="MeterListener"/>: what OpenTelemetry subscribes with, no exporter). Listeners are process-wide, and other
/// tests may label or train at the same time: a test picks its own spans by their tags, and its measurements by the span
/// that was current when they were recorded (<see cref="Measurement.Span"/>, as OpenTelemetry links exemplars).
/// </summary>
public sealed class TelemetryRecorder : IDisposable
{
    public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags, Activity? Span);

    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;

    public TelemetryRecorder()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FlowersTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == FlowersTelemetry.Name) listener.EnableMeasurementEvents(instrument);
            },
        };
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue(new Measurement(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()), Activity.Current));

    /// <summary>Stopped spans named <paramref name="name"/> whose tag <paramref name="tag"/> is <paramref name="value"/>.</summary>
    public IReadOnlyList<Activity> Spans(string name, string tag, object value) =>
        [.. _spans.Where(span => span.OperationName == name && Equals(span.GetTagItem(tag), value))];

    /// <summary>Measurements of <paramref name="instrument"/> recorded while <paramref name="span"/> was current.</summary>
    public IReadOnlyList<Measurement> During(Activity span, string instrument) =>
        [.. _measurements.Where(m => m.Instrument == instrument && ReferenceEquals(m.Span, span))];

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }
}
