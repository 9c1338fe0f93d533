using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class FeaturizeShard(FeaturizeShardActivity activity)
{
    [Function(FeaturizeShardActivity.Name)]
    public Task<FeaturizeShardResult> Run([ActivityTrigger] FeaturizeShardInput input, CancellationToken ct) => activity.RunAsync(input, ct);
}
