using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class LabelPendingUploads(LabelPendingUploadsActivity activity)
{
    [Function(LabelPendingUploadsActivity.Name)]
    public Task<Flowers.Labelling.PendingLabelling> Run([ActivityTrigger] string? publishedModelId, CancellationToken ct) => activity.RunAsync(publishedModelId, ct);
}
