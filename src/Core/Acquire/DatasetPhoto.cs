namespace Flowers.Acquire;

/// <summary>One photo of a labelled data set, found on disk.</summary>
/// <param name="Class">The class (label): the name of the top-level folder the photo is in.</param>
/// <param name="Name">The path of the photo inside its class folder, '/'-separated (usually just the file name).</param>
/// <param name="FilePath">Where the bytes are on this machine.</param>
/// <param name="ContentHash">Lowercase hex SHA-256 of the bytes.</param>
/// <param name="Length">Size in bytes.</param>
public sealed record DatasetPhoto(string Class, string Name, string FilePath, string ContentHash, long Length)
{
    /// <summary>The photo's data-set path, "{class}/{name}": how reports and manifests name it.</summary>
    public string Image => $"{Class}/{Name}";
}
