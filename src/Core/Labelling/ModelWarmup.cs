using System.Diagnostics;
using Flowers.Featurize;
using Microsoft.Extensions.Logging;

namespace Flowers.Labelling;

/// <summary>
/// Builds the featurizer (ONNX Runtime sessions) and loads the published model as a host starts, so the first
/// upload or training run does not wait for them. The hosts run it in the background; nothing waits on it, and
/// a failure (storage not up yet, no model published) only means the first request loads them itself.
/// </summary>
public sealed class ModelWarmup(FeaturizerCatalog featurizers, PublishedModel model, ILogger<ModelWarmup> log)
{
    public async Task RunAsync(CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        // The sessions take the longest: started first, on a thread of their own, while the model is fetched.
        var featurizerReady = TimeSpan.Zero;
        var featurizer = Task.Run(() => { _ = featurizers.Default; featurizerReady = clock.Elapsed; }, ct);
        try
        {
            var published = await model.GetAsync(ct: ct);
            var modelReady = clock.Elapsed;
            await featurizer;
            log.LogInformation("Warm-up started {Start:0.00} s after the process; featurizer ready after {Featurizer:0.00} s{Model}",
                sinceStart.TotalSeconds, featurizerReady.TotalSeconds,
                published is null ? ", no model published" : $", model {published.ModelId} loaded after {modelReady.TotalSeconds:0.00} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Warming up did not finish ({Error}); the first request loads what is missing", e.Message);
        }
    }
}
