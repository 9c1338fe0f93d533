namespace Flowers.Featurize;

/// <summary>
/// The bytes are not a photo this product can read. <see cref="Reason"/> says why in a few words a user
/// understands ("empty file", "not an image (unrecognised format)", "truncated or corrupt JPEG",
/// "too large: 50000x50000 pixels (limit ...)").
/// </summary>
public sealed class PhotoRejectedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}
