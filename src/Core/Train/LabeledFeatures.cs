using Flowers.Featurize;

namespace Flowers.Train;

/// <summary>A photo's features with its class: one training or test example.</summary>
/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
public sealed record LabeledFeatures(string Image, string Label, PhotoFeatures Features);
