using System.Security.Cryptography;
using System.Text;

namespace Flowers.Acquire;

/// <summary>A labelled photo data set as found on disk: one folder per class.</summary>
/// <param name="Root">The folder whose sub-folders are the classes (a wrapping folder already looked through).</param>
/// <param name="Classes">Class names, sorted ordinally.</param>
/// <param name="Photos">Every usable photo, sorted by class then name.</param>
/// <param name="Skipped">Files that look like photos by name but are not (with the reason).</param>
/// <param name="NonImageFiles">How many other files (LICENSE.txt, notes ...) were ignored.</param>
public sealed record Dataset(
    string Root,
    IReadOnlyList<string> Classes,
    IReadOnlyList<DatasetPhoto> Photos,
    IReadOnlyList<SkippedPhoto> Skipped,
    int NonImageFiles)
{
    /// <summary>
    /// Stable identity of the data set's content: SHA-256 (hex) over the sorted (class, name, content hash)
    /// list. Where the data set lies on disk does not matter; renaming, adding or changing a photo does.
    /// </summary>
    public string Fingerprint => FingerprintOf(Photos.Select(p => (p.Class, p.Name, p.ContentHash)));

    /// <summary>The fingerprint of any (class, name, content hash) list, e.g. one read back from blobs.</summary>
    public static string FingerprintOf(IEnumerable<(string Class, string Name, string ContentHash)> photos)
    {
        var sorted = photos.ToList();
        sorted.Sort((a, b) =>
        {
            var byClass = string.CompareOrdinal(a.Class, b.Class);
            return byClass != 0 ? byClass : string.CompareOrdinal(a.Name, b.Name);
        });
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (cls, name, hash) in sorted)
            // Tab and newline cannot occur in the hex hash and are rare enough in names not to collide in practice.
            sha.AppendData(Encoding.UTF8.GetBytes($"{cls}\t{name}\t{hash}\n"));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public int CountOf(string cls) => Photos.Count(p => p.Class == cls);
}
