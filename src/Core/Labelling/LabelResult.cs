namespace Flowers.Labelling;

/// <summary>
/// labels/{upload}.json: what the published model says an uploaded photo shows, or why it could not say.
/// </summary>
/// <param name="Upload">The blob name in the uploads container.</param>
/// <param name="Error">Set instead of a label: the file is not a readable image, too large, or (with
/// <paramref name="Pending"/>) no model is published yet.</param>
/// <param name="Pending">True while no model is published: the photo is labelled when one is.</param>
/// <param name="UploadETag">The ETag of the upload this result is for (after its label metadata was set): when the
/// upload's ETag is another, the upload was replaced and this result is not its label. Null in older results.</param>
public sealed record LabelResult(
    string Upload,
    string? Label,
    double? Confidence,
    IReadOnlyDictionary<string, double>? Probabilities,
    string? ModelId,
    DateTimeOffset LabelledAt,
    string? Error = null,
    bool Pending = false,
    string? UploadETag = null);

/// <summary>What a pass over the uploads that waited for a model did.</summary>
/// <param name="Labelled">Uploads that got a result (a label, or an error saying why the photo has none).</param>
/// <param name="Failed">Uploads whose labelling failed (logged with their names); they stay pending.</param>
public sealed record PendingLabelling(int Labelled, int Failed);

/// <summary>One upload of a batch (<see cref="UploadLabeller.LabelBatchAsync"/>).</summary>
/// <param name="Result">Its result; null when it is gone, failed, or is another labeller's.</param>
/// <param name="Failure">Why labelling it failed (storage errors): it stays unlabelled and is tried again.</param>
/// <param name="ClaimedElsewhere">Another labeller (host) holds its claim and labels it.</param>
/// <param name="Superseded">Replaced while the batch labelled it (internal: labelled again on its own).</param>
public sealed record UploadOutcome(string Upload, LabelResult? Result, string? Failure = null, bool ClaimedElsewhere = false, bool Superseded = false);
