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
}

/// <param name="Image">The photo's data-set path, "{class}/{file}".</param>
/// <param name="Bytes">The encoded photo (JPEG, PNG, ...).</param>
public sealed record SamplePhoto(string Class, string Image, byte[] Bytes);
