using Flowers.Labelling;

namespace Flowers.Pipeline;

/// <summary>After publishing: labels the uploads that have no label yet (e.g. sent before any model existed).</summary>
public sealed class LabelPendingUploadsActivity(UploadLabeller labeller)
{
    public const string Name = "LabelPendingUploads";

    /// <returns>How many uploads were labelled, and how many failed (each logged with its name); a failed upload
    /// does not fail the activity, so one bad upload cannot fail a run that has published.</returns>
    public Task<PendingLabelling> RunAsync(string? publishedModelId, CancellationToken ct = default) => labeller.LabelPendingAsync(ct);
}
