using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

public sealed class Ingest(IngestActivity activity)
{
    [Function(IngestActivity.Name)]
    public Task<IngestResult> Run([ActivityTrigger] IngestInput input, CancellationToken ct) => activity.RunAsync(input, ct);
}
