using System.Globalization;
using Flowers.Diagnostics;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Pipeline;

// What the orchestrator passes to this activity and gets back: names and counts, never photos or features.

public sealed record PublishInput(string ModelId, double MinAccuracy);

/// <param name="Reason">Why the model was not published (the gate), null when it was.</param>
public sealed record PublishResult(string ModelId, bool Published, string? Reason);

/// <summary>
/// Publish: if the model passes the gate, points models/current at it (the small pointer blob, written after
/// every file of models/{id}/); otherwise leaves models/current as it was and says why.
/// </summary>
public sealed class PublishActivity(ModelRegistry registry, ILogger<PublishActivity> log)
{
    public const string Name = "Publish";

    // The stage's span and duration (FlowersTelemetry), with "published" or "gated" as its outcome.
    public Task<PublishResult> RunAsync(PublishInput input, CancellationToken ct = default) =>
        FlowersTelemetry.StageAsync(FlowersTelemetry.Stages.Publish, null, () => PublishAsync(input, ct),
            modelId: input.ModelId, outcome: r => r.Published ? "published" : "gated");

    private async Task<PublishResult> PublishAsync(PublishInput input, CancellationToken ct)
    {
        var metrics = await registry.ReadMetricsAsync(input.ModelId, ct)
            ?? throw new InvalidOperationException($"model {input.ModelId} has no {StorageNames.MetricsFile}");
        if (metrics.Accuracy < input.MinAccuracy)
        {
            var reason = string.Create(CultureInfo.InvariantCulture,
                $"accuracy {metrics.Accuracy:0.####} is below the gate minAccuracy {input.MinAccuracy:0.####}; models/current was not changed");
            log.LogWarning("Model {ModelId} not published: {Reason}", input.ModelId, reason);
            return new PublishResult(input.ModelId, false, reason);
        }
        if (metrics.TestCount <= 0)
        {
            var reason = $"model {input.ModelId} was evaluated on 0 test photos, so its accuracy says nothing; models/current was not changed";
            log.LogWarning("Model {ModelId} not published: {Reason}", input.ModelId, reason);
            return new PublishResult(input.ModelId, false, reason);
        }
        var current = await registry.PublishAsync(input.ModelId, DateTimeOffset.UtcNow, ct);
        if (current.ModelId != input.ModelId)
        {
            var reason = $"models/current names model {current.ModelId}, created later ({current.ModelCreatedAt:O}); it was left in place";
            log.LogWarning("Model {ModelId} not published: {Reason}", input.ModelId, reason);
            return new PublishResult(input.ModelId, false, reason);
        }
        log.LogInformation("Published model {ModelId}", input.ModelId);
        return new PublishResult(input.ModelId, true, null);
    }
}
