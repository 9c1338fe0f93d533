using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class TrainAndEvaluate(TrainAndEvaluateActivity activity)
{
    [Function(TrainAndEvaluateActivity.Name)]
    public Task<TrainResult> Run([ActivityTrigger] TrainInput input, CancellationToken ct) => activity.RunAsync(input, ct);
}
