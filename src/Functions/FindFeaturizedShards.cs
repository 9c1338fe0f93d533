using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class FindFeaturizedShards(FeaturizeShardActivity activity)
{
    [Function(FeaturizeShardActivity.FindDoneName)]
    public Task<FeaturizeShardResult?[]> Run([ActivityTrigger] FeatureShardsInput input, CancellationToken ct) => activity.FindDoneAsync(input, ct);
}
