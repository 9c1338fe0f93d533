namespace Flowers.Labelling;

/// <summary>
/// labels/{upload}.json: what the published model says an uploaded photo shows, or why it could not say.
/// </summary>
/// <param name="Upload">The blob name in the uploads container.</param>
/// <param name="Error">Set instead of a label: the file is not a readable image, too large, or (with
/// <paramref name="Pending"/>) no model is published yet.</param>
/// <param name="Pending">True while no model is published: the photo is labelled when one is.</param>
public sealed record LabelResult(
    string Upload,
    string? Label,
    double? Confidence,
    IReadOnlyDictionary<string, double>? Probabilities,
    string? ModelId,
    DateTimeOffset LabelledAt,
    string? Error = null,
    bool Pending = false);
