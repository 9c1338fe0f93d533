using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Flowers.Acquire;

namespace Flowers.Split;

/// <summary>
/// Splits each class into train and test by hashing, as TensorFlow's retrain.py does, so that a photo's side
/// depends only on the seed, its class and its name: adding photos to the data set never moves existing ones.
/// Exact duplicates (same bytes) always share a side; the same bytes filed under two classes are left out.
/// </summary>
public static partial class DatasetSplitter
{
    /// <summary>A class needs one train and one test photo.</summary>
    public const int MinPhotosPerClass = 2;

    public static SplitManifest Split(Dataset dataset, SplitOptions? options = null) =>
        Split(dataset.Classes, dataset.Photos.Select(p => (p.Class, p.Name, p.ContentHash)), options ?? new SplitOptions());

    /// <summary>Splits photos known only by (class, name, content hash), e.g. as listed from blob storage.</summary>
    /// <exception cref="UnusableDatasetException">A class has fewer than two distinct photos to split.</exception>
    public static SplitManifest Split(IReadOnlyList<string> classes,
        IEnumerable<(string Class, string Name, string ContentHash)> photos, SplitOptions options)
    {
        if (!(options.TestFraction > 0 && options.TestFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.TestFraction, "The test fraction must be between 0 and 1 (exclusive).");
        var sortedClasses = classes.Order(StringComparer.Ordinal).ToList();
        var known = sortedClasses.ToHashSet(StringComparer.Ordinal);
        var all = photos.Select(p => new Photo(p.Class, p.Name, p.ContentHash)).ToList();
        foreach (var p in all.Where(p => !known.Contains(p.Class)))
            throw new ArgumentException($"Photo '{p.Image}' has class '{p.Class}', which is not among the classes.", nameof(photos));
        foreach (var twice in all.GroupBy(p => p.Image, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new ArgumentException($"Photo '{twice.Key}' is listed twice.", nameof(photos));

        // Identical bytes under two classes: the label is ambiguous, and keeping either copy would put a photo in the
        // test set whose twin may carry another label. We drop every copy and say so.
        var skipped = new List<SkippedPhoto>();
        var groups = new List<Photo[]>();
        var droppedPerClass = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in all.GroupBy(p => p.ContentHash, StringComparer.Ordinal))
        {
            var members = group.OrderBy(p => p.Image, StringComparer.Ordinal).ToArray();
            if (members.Select(p => p.Class).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                groups.Add(members);
                continue;
            }
            foreach (var p in members)
            {
                var others = string.Join(", ", members.Where(o => o != p).Select(o => $"'{o.Image}'"));
                skipped.Add(new SkippedPhoto(p.Image,
                    $"identical bytes are also filed as {others} under another class; the label is ambiguous, so every copy is left out"));
                droppedPerClass[p.Class] = droppedPerClass.GetValueOrDefault(p.Class) + 1;
            }
        }

        var side = new Dictionary<Photo[], SplitSide>();
        var problems = new List<string>();
        foreach (var cls in sortedClasses)
        {
            var classGroups = groups.Where(g => g[0].Class == cls)
                .Select(g => (Members: g, Score: Score(options.Seed, cls, g[0].Name), Key: g[0].Image))
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToList();
            var count = classGroups.Sum(g => g.Members.Length);
            if (classGroups.Count < MinPhotosPerClass)
            {
                var dropped = droppedPerClass.GetValueOrDefault(cls);
                problems.Add($"class '{cls}' has {count} photo{(count == 1 ? "" : "s")}"
                    + (count > 1 ? " but they are all copies of one photo" : "")
                    + (dropped > 0 ? $" (after leaving out {dropped} whose bytes also appear under another class)" : ""));
                continue;
            }
            foreach (var g in classGroups)
                side[g.Members] = g.Score < options.TestFraction ? SplitSide.Test : SplitSide.Train;

            // Keep at least one photo on each side: move the group whose hash came closest to the other side.
            // This only happens for small classes; the choice is still a pure function of the class's names.
            if (classGroups.All(g => side[g.Members] == SplitSide.Train))
                side[classGroups.MinBy(g => g.Score).Members] = SplitSide.Test;
            else if (classGroups.All(g => side[g.Members] == SplitSide.Test))
                side[classGroups.MaxBy(g => g.Score).Members] = SplitSide.Train;
        }
        if (problems.Count > 0)
            throw new UnusableDatasetException(
                $"Cannot split the data set: {string.Join("; ", problems)}. A train/test split needs at least {MinPhotosPerClass} different photos per class.");

        var entries = side
            .SelectMany(kv => kv.Key.Select(p => new SplitEntry(p.Class, p.Name, p.ContentHash, kv.Value)))
            .OrderBy(e => e.Class, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        skipped.Sort((a, b) => string.CompareOrdinal(a.Image, b.Image));
        return new SplitManifest(sortedClasses, entries, options) { Skipped = skipped };
    }

    /// <summary>
    /// Where a photo falls in [0, 1): test when below the test fraction. SHA-256 of seed, class and the name with
    /// any "_nohash_..." suffix removed (the retrain.py rule: "cat_nohash_1.jpg" and "cat_nohash_2.jpg" are two
    /// shots of one subject and must land on the same side). retrain.py hashes the name alone with SHA-1;
    /// adding the seed lets a user draw another split, adding the class keeps equal names in two classes apart.
    /// </summary>
    public static double Score(int seed, string cls, string name)
    {
        var key = Encoding.UTF8.GetBytes($"{seed}\u001f{cls}\u001f{NameForHashing(name)}");
        var hash = SHA256.HashData(key);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
    }

    /// <summary>The name with "_nohash_" and everything after it removed, as retrain.py does.</summary>
    public static string NameForHashing(string name) => NoHashSuffix().Replace(name, "");

    [GeneratedRegex("_nohash_.*$", RegexOptions.Singleline)]
    private static partial Regex NoHashSuffix();

    private sealed record Photo(string Class, string Name, string ContentHash)
    {
        public string Image { get; } = $"{Class}/{Name}";
    }
}
