using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class Publish(PublishActivity activity)
{
    [Function(PublishActivity.Name)]
    public Task<PublishResult> Run([ActivityTrigger] PublishInput input, CancellationToken ct) => activity.RunAsync(input, ct);
}
