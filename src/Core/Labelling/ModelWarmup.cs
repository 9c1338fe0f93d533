using System.Diagnostics;
using Flowers.Pipeline;
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
        // The sessions take the longest: started first, on a thread of their own, while the model is fetched.
        var featurizer = Task.Run(() => featurizers.Default, ct);
        try
        {
            var published = await model.GetAsync(ct: ct);
            await featurizer;
            log.LogInformation("Featurizer ready{Model} after {Seconds:0.00} s",
                published is null ? "" : $" and model {published.ModelId} loaded", clock.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Warming up did not finish ({Error}); the first request loads what is missing", e.Message);
        }
    }
}
