using Flowers.Labelling;
using Microsoft.Extensions.Hosting;

namespace Flowers.Functions;

/// <summary>Not a trigger: builds the featurizer and loads the published model while the worker starts (Core's <see cref="ModelWarmup"/>).</summary>
public sealed class Warmup(ModelWarmup warmup) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => warmup.RunAsync(stoppingToken);
}
