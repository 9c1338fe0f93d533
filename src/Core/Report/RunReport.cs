using Flowers.Evaluate;

namespace Flowers.Report;

/// <summary>
/// The pictures and page of one training run, as bytes: the CLI writes them into runs/&lt;name&gt;/, the
/// pipeline into blobs under models/{modelId}/. Drawn with SkiaSharp; needs no browser, service or system font.
/// </summary>
public static class RunReport
{
    public const string PreviewFile = "preview.jpg";
    public const string ConfusionFile = "confusion.png";
    public const string MisclassifiedFile = "misclassified.jpg";
    public const string PageFile = "report.html";

    /// <summary>Every file <see cref="Render"/> returns, the page first.</summary>
    public static IReadOnlyList<string> Files { get; } = [PageFile, PreviewFile, ConfusionFile, MisclassifiedFile];

    /// <summary>The data-set paths that <see cref="ReportInput.ReadPhoto"/> will be asked for: the misclassified
    /// photos that get a thumbnail. A caller whose reads are slow or asynchronous can fetch just these first.</summary>
    public static IReadOnlyList<string> PicturedMistakes(RunMetrics metrics) =>
        PhotoGrid.WorstFirst(metrics.Misclassified).Take(PhotoGrid.MaxMisclassifiedTiles).Select(m => m.Image).ToList();

    /// <returns>File name → content: <see cref="PreviewFile"/>, <see cref="ConfusionFile"/>,
    /// <see cref="MisclassifiedFile"/> and <see cref="PageFile"/> (which embeds the three pictures).</returns>
    public static IReadOnlyDictionary<string, byte[]> Render(ReportInput input)
    {
        var m = input.Metrics;
        byte[] preview = PhotoGrid.Preview(input.Samples, m.Classes).ToJpeg();
        byte[] confusion = new ConfusionMatrixChart(m.Classes, m.ConfusionMatrixNormalized, m.ConfusionMatrix).ToPng();
        byte[] misclassified = PhotoGrid.Misclassified(m.Misclassified, input.ReadPhoto).ToJpeg();
        int pictured = Math.Min(m.Misclassified.Count, PhotoGrid.MaxMisclassifiedTiles);
        string page = ReportPage.Render(input, preview, confusion, misclassified, pictured);
        return new Dictionary<string, byte[]>
        {
            [PreviewFile] = preview,
            [ConfusionFile] = confusion,
            [MisclassifiedFile] = misclassified,
            [PageFile] = System.Text.Encoding.UTF8.GetBytes(page),
        };
    }
}
