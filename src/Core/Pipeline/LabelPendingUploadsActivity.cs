using Flowers.Labelling;

namespace Flowers.Pipeline;

/// <summary>After publishing: labels the uploads that have no label yet (e.g. sent before any model existed).</summary>
public sealed class LabelPendingUploadsActivity(UploadLabeller labeller)
{
    public const string Name = "LabelPendingUploads";

    /// <returns>How many uploads were labelled.</returns>
    public Task<int> RunAsync(string? publishedModelId, CancellationToken ct = default) => labeller.LabelPendingAsync(ct);
}
