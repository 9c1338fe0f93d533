using Flowers.Acquire;
using Flowers.Evaluate;

namespace Flowers.Report;

/// <summary>Everything a run report shows. Pure data: the caller reads photos and metrics, the report draws.</summary>
/// <param name="Metrics">What the run measured (metrics.json).</param>
/// <param name="Title">Page heading, e.g. the run or model name.</param>
/// <param name="Settings">The run's settings as shown to a person (option name → value), in display order.</param>
/// <param name="Counts">Photos per class on each side of the split, and how many were skipped.</param>
/// <param name="Samples">Photos for the preview grid; at most <see cref="PhotoGrid.MaxSamplesPerClass"/> per class are drawn.</param>
/// <param name="ReadPhoto">Reads a test photo by its data-set path "{class}/{file}" for the misclassified
/// thumbnails; null (or an exception) draws a placeholder tile.</param>
/// <param name="Published">Metrics of the currently published model, when there is one.</param>
/// <param name="PublishedModelId">Id of that model.</param>
public sealed record ReportInput(
    RunMetrics Metrics,
    string Title,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<ClassCounts> Counts,
    IReadOnlyList<SamplePhoto> Samples,
    Func<string, byte[]?> ReadPhoto,
    RunMetrics? Published = null,
    string? PublishedModelId = null);

/// <summary>Photos of one class: used for training, held out for testing, left out as unreadable.</summary>
public sealed record ClassCounts(string Class, int Train, int Test, int Skipped)
{
    public int Total => Train + Test + Skipped;

    /// <summary>Counts per class from the photos a run trained and tested on and those it skipped (all named
    /// "{class}/{file}"): <paramref name="classes"/> in order, then any class met only among the skipped.</summary>
    public static IReadOnlyList<ClassCounts> Tally(IReadOnlyList<string> classes, IEnumerable<string> trainImages,
        IEnumerable<string> testImages, IEnumerable<SkippedPhoto> skipped)
    {
        var train = trainImages.CountBy(ClassOf).ToDictionary(StringComparer.Ordinal);
        var test = testImages.CountBy(ClassOf).ToDictionary(StringComparer.Ordinal);
        var left = skipped.Select(s => s.Image).CountBy(ClassOf).ToDictionary(StringComparer.Ordinal);
        return classes.Concat(left.Keys.Except(classes, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            .Select(c => new ClassCounts(c, train.GetValueOrDefault(c), test.GetValueOrDefault(c), left.GetValueOrDefault(c)))
            .ToList();
    }

    /// <summary>The class of a data-set path "{class}/{file}".</summary>
    internal static string ClassOf(string image) => image.IndexOf('/') is var slash and > 0 ? image[..slash] : "";
}

/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
/// <param name="Bytes">The encoded photo (JPEG, PNG, ...).</param>
public sealed record SamplePhoto(string Class, string Image, byte[] Bytes)
{
    /// <summary>Which photos the preview shows: the first <paramref name="perClass"/> of each class in file-name
    /// order, so every report of the same data set shows the same ones.</summary>
    /// <param name="images">Data-set paths "{class}/{file}" of photos the run could read.</param>
    public static IReadOnlyList<string> Choose(IEnumerable<string> images, int perClass = PhotoGrid.MaxSamplesPerClass) =>
        images.GroupBy(ClassCounts.ClassOf, StringComparer.Ordinal)
            .SelectMany(g => g.Order(StringComparer.Ordinal).Take(perClass))
            .ToList();
}
