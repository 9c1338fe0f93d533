using System.Globalization;
using SkiaSharp;

namespace Flowers.Report;

/// <summary>
/// The row-normalised confusion matrix as an annotated heat map: rows are the true class, columns the
/// predicted class, each cell coloured by its share of the row (white → dark blue) and labelled with it.
/// </summary>
public sealed class ConfusionMatrixChart
{
    private const int Padding = 16, TitleHeight = 34, AxisTitle = 22, LabelGap = 8, MaxLabelWidth = 180;
    private const int LegendGap = 24, LegendWidth = 16, LegendTicks = 44;
    private const float TitleSize = 18, LabelSize = 13, AxisTitleSize = 13;
    private static readonly float Sin45 = MathF.Sqrt(0.5f);

    // Matplotlib's "Blues": light enough at 0 to read dark text, dark enough at 1 to read white text.
    private static readonly SKColor[] Scale =
    [
        new(0xF7, 0xFB, 0xFF), new(0xDE, 0xEB, 0xF7), new(0xC6, 0xDB, 0xEF), new(0x9E, 0xCA, 0xE1), new(0x6B, 0xAE, 0xD6),
        new(0x42, 0x92, 0xC6), new(0x21, 0x71, 0xB5), new(0x08, 0x51, 0x9C), new(0x08, 0x30, 0x6B),
    ];

    private readonly IReadOnlyList<string> _classes;
    private readonly IReadOnlyList<IReadOnlyList<double>> _normalized;
    private readonly IReadOnlyList<IReadOnlyList<int>>? _counts;
    private readonly int _cell, _gridLeft, _gridTop, _rowLabelWidth;

    /// <param name="normalized">Rows = true class, columns = predicted class, each row summing to 1 (or all 0).</param>
    /// <param name="counts">The raw counts, shown under the share when cells are large enough.</param>
    public ConfusionMatrixChart(IReadOnlyList<string> classes, IReadOnlyList<IReadOnlyList<double>> normalized,
        IReadOnlyList<IReadOnlyList<int>>? counts = null)
    {
        if (normalized.Count != classes.Count || normalized.Any(r => r.Count != classes.Count))
            throw new ArgumentException($"Confusion matrix must be {classes.Count}x{classes.Count} for {classes.Count} classes", nameof(normalized));
        _classes = classes;
        _normalized = normalized;
        _counts = counts is not null && counts.Count == classes.Count && counts.All(r => r.Count == classes.Count) ? counts : null;

        int n = Math.Max(1, classes.Count);
        _cell = Math.Clamp(600 / n, 14, 96);
        float widest = classes.Select(c => { using var f = ReportFont.For(c, LabelSize); return f.MeasureText(c); })
            .DefaultIfEmpty(0).Max();
        _rowLabelWidth = (int)Math.Ceiling(Math.Min(widest, MaxLabelWidth));
        // Column labels run down-left at 45°: the first one must not leave the picture on the left.
        int columnLabelReach = (int)Math.Ceiling(_rowLabelWidth * Sin45 - _cell / 2f);
        _gridLeft = Padding + Math.Max(AxisTitle + _rowLabelWidth + LabelGap, columnLabelReach);
        _gridTop = Padding + TitleHeight;
        int columnLabelHeight = (int)Math.Ceiling(_rowLabelWidth * Sin45 + LabelSize);
        Size = new SKSizeI(
            _gridLeft + n * _cell + LegendGap + LegendWidth + LegendTicks + Padding,
            _gridTop + n * _cell + LabelGap + columnLabelHeight + AxisTitle + Padding);
    }

    public SKSizeI Size { get; }

    public SKRectI CellBounds(int actual, int predicted) =>
        SKRectI.Create(_gridLeft + predicted * _cell, _gridTop + actual * _cell, _cell, _cell);

    /// <summary>Where the true-class label of a row is drawn, left of the grid.</summary>
    public SKRectI RowLabelBounds(int actual) =>
        SKRectI.Create(_gridLeft - LabelGap - _rowLabelWidth, _gridTop + actual * _cell, _rowLabelWidth, _cell);

    /// <summary>The heat-map colour of a share in [0, 1].</summary>
    public static SKColor ColorFor(double value)
    {
        double position = Math.Clamp(double.IsFinite(value) ? value : 0, 0, 1) * (Scale.Length - 1);
        int i = Math.Min((int)position, Scale.Length - 2);
        float t = (float)(position - i);
        SKColor a = Scale[i], b = Scale[i + 1];
        return new SKColor(Lerp(a.Red, b.Red, t), Lerp(a.Green, b.Green, t), Lerp(a.Blue, b.Blue, t));
    }

    /// <summary>White on dark cells, near-black on light ones.</summary>
    public static SKColor TextColorOn(SKColor background) =>
        (0.2126 * background.Red + 0.7152 * background.Green + 0.0722 * background.Blue) / 255 < 0.5
            ? SKColors.White : PhotoGrid.Ink;

    public byte[] ToPng()
    {
        using var surface = SKSurface.Create(new SKImageInfo(Size.Width, Size.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { IsAntialias = true };
        int n = _classes.Count;

        using (var title = ReportFont.For("Confusion matrix (share of each true class)", TitleSize, bold: true))
        {
            paint.Color = PhotoGrid.Ink;
            canvas.DrawText("Confusion matrix (share of each true class)", Padding, Padding + TitleSize, SKTextAlign.Left, title, paint);
        }

        for (int row = 0; row < n; row++)
            for (int col = 0; col < n; col++)
                DrawCell(canvas, paint, row, col);

        paint.Color = PhotoGrid.Ink;
        for (int i = 0; i < n; i++)
        {
            using var font = ReportFont.For(_classes[i], LabelSize);
            string label = ReportFont.Fit(_classes[i], font, MaxLabelWidth);
            var rowLabel = RowLabelBounds(i);
            canvas.DrawText(label, rowLabel.Right, rowLabel.MidY + LabelSize / 3, SKTextAlign.Right, font, paint);

            canvas.Save();
            canvas.Translate(_gridLeft + (i + 0.5f) * _cell + LabelSize / 3, _gridTop + n * _cell + LabelGap);
            canvas.RotateDegrees(-45);
            canvas.DrawText(label, 0, 0, SKTextAlign.Right, font, paint);
            canvas.Restore();
        }

        using (var axis = ReportFont.For("Predicted label", AxisTitleSize, bold: true))
        {
            float gridMid = _gridLeft + n * _cell / 2f;
            canvas.DrawText("Predicted label", gridMid, Size.Height - Padding - 4, SKTextAlign.Center, axis, paint);
            canvas.Save();
            canvas.Translate(Padding + AxisTitleSize, _gridTop + n * _cell / 2f);
            canvas.RotateDegrees(-90);
            canvas.DrawText("True label", 0, 0, SKTextAlign.Center, axis, paint);
            canvas.Restore();
        }

        DrawLegend(canvas, paint, n);

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private void DrawCell(SKCanvas canvas, SKPaint paint, int row, int col)
    {
        double value = _normalized[row][col];
        var bounds = CellBounds(row, col);
        var fill = ColorFor(value);
        paint.Color = fill;
        canvas.DrawRect(bounds, paint);
        paint.Color = SKColors.White;   // thin gaps keep neighbouring cells of similar colour apart
        paint.Style = SKPaintStyle.Stroke;
        canvas.DrawRect(bounds, paint);
        paint.Style = SKPaintStyle.Fill;
        if (_cell < 30) return;

        float size = Math.Min(_cell * 0.26f, 16);
        string share = value.ToString("0.00", CultureInfo.InvariantCulture);
        using var font = ReportFont.For(share, size, bold: row == col);
        paint.Color = TextColorOn(fill);
        bool withCount = _counts is not null && _cell >= 56;
        float y = bounds.MidY + size / 3 - (withCount ? size * 0.55f : 0);
        canvas.DrawText(share, bounds.MidX, y, SKTextAlign.Center, font, paint);
        if (withCount)
        {
            string count = _counts![row][col].ToString(CultureInfo.InvariantCulture);
            using var small = ReportFont.For(count, size * 0.72f);
            canvas.DrawText(count, bounds.MidX, y + size * 1.1f, SKTextAlign.Center, small, paint);
        }
    }

    private void DrawLegend(SKCanvas canvas, SKPaint paint, int n)
    {
        float left = _gridLeft + n * _cell + LegendGap, top = _gridTop, height = Math.Max(n * _cell, 60);
        using (var gradient = SKShader.CreateLinearGradient(new SKPoint(0, top + height), new SKPoint(0, top), Scale, SKShaderTileMode.Clamp))
        {
            paint.Shader = gradient;
            canvas.DrawRect(left, top, LegendWidth, height, paint);
            paint.Shader = null;
        }
        paint.Color = PhotoGrid.Muted;
        paint.Style = SKPaintStyle.Stroke;
        canvas.DrawRect(left, top, LegendWidth, height, paint);
        paint.Style = SKPaintStyle.Fill;
        paint.Color = PhotoGrid.Ink;
        foreach (var tick in new[] { 0.0, 0.5, 1.0 })
        {
            string text = tick.ToString("0.0", CultureInfo.InvariantCulture);
            using var font = ReportFont.For(text, 12);
            float y = top + (float)(1 - tick) * height;
            canvas.DrawText(text, left + LegendWidth + 6, y + 4, SKTextAlign.Left, font, paint);
        }
    }

    private static byte Lerp(byte a, byte b, float t) => (byte)Math.Round(a + (b - a) * t);
}
