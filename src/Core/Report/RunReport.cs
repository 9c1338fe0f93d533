namespace Flowers.Report;

/// <summary>
/// The pictures and page of one training run, as bytes: the CLI writes them into runs/&lt;name&gt;/, the
/// pipeline into blobs under models/{modelId}/. Drawn with SkiaSharp; needs no browser, service or system font.
/// </summary>
public static class RunReport
{
    public const string PreviewFile = "preview.png";
    public const string ConfusionFile = "confusion.png";
    public const string MisclassifiedFile = "misclassified.png";
    public const string PageFile = "report.html";

    /// <returns>File name → content: <see cref="PreviewFile"/>, <see cref="ConfusionFile"/>,
    /// <see cref="MisclassifiedFile"/> and <see cref="PageFile"/> (which embeds the three pictures).</returns>
    public static IReadOnlyDictionary<string, byte[]> Render(ReportInput input)
    {
        var m = input.Metrics;
        byte[] preview = PhotoGrid.Preview(input.Samples, m.Classes).ToPng();
        byte[] confusion = new ConfusionMatrixChart(m.Classes, m.ConfusionMatrixNormalized, m.ConfusionMatrix).ToPng();
        byte[] misclassified = PhotoGrid.Misclassified(m.Misclassified, input.ReadPhoto).ToPng();
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
