namespace Flowers.Featurize;

/// <summary>
/// What the network saw in one photo. <see cref="Views"/>[0] is the photo as it is; further views are
/// augmentations of it (Views[1] = mirrored left to right). Every view has the same length.
/// </summary>
public sealed record PhotoFeatures(float[][] Views)
{
    public int Dimension => Views.Length == 0 ? 0 : Views[0].Length;
}

/// <summary>An encoded photo (JPEG, PNG, ...) and the key its outcome is reported under.</summary>
public sealed record PhotoBytes(string Key, ReadOnlyMemory<byte> Bytes);

/// <summary>One photo's result in a batch: features, or the reason it was refused (never both).</summary>
public sealed record FeaturizeOutcome(string Key, PhotoFeatures? Features, string? Error)
{
    public bool Succeeded => Features is not null;
}
