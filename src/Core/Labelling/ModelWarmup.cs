using System.Diagnostics;
using Flowers.Featurize;
using Microsoft.Extensions.Logging;

namespace Flowers.Labelling;

/// <summary>
/// Loads the published model and builds its featurizer (ONNX Runtime sessions) as a host starts, so the first
/// upload or training run does not wait for them. The hosts run it in the background; nothing waits on it, and
/// a failure (storage not up yet, no model published) only means the first request loads them itself.
/// </summary>
public sealed class ModelWarmup(FeaturizerCatalog featurizers, PublishedModel model, ILogger<ModelWarmup> log)
{
    public async Task RunAsync(CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        try
        {
            // The published model brings its own featurizer (the input size its training photos chose); without a
            // model, the default one is built for the first training run.
            var published = await model.GetAsync(ct: ct);
            if (published is null) await Task.Run(() => featurizers.Default, ct);
            log.LogInformation("Warm-up started {Start:0.00} s after the process; {What} ready after {Seconds:0.00} s",
                sinceStart.TotalSeconds, published is null ? "no model published, featurizer" : $"model {published.ModelId} and its featurizer",
                clock.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Warming up did not finish ({Error}); the first request loads what is missing", e.Message);
        }
    }
}
