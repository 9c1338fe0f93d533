using Flowers.Evaluate;
using SkiaSharp;

namespace Flowers.Report;

/// <summary>One line under a photo tile.</summary>
public sealed record Caption(string Text, SKColor Color, bool Bold = false);

/// <param name="Photo">Encoded photo; null when it could not be read (a placeholder tile is drawn).</param>
public sealed record PhotoTile(byte[]? Photo, IReadOnlyList<Caption> Captions);

/// <param name="Header">Drawn left of the row (e.g. the class name); null for none.</param>
public sealed record PhotoGridRow(string? Header, IReadOnlyList<PhotoTile> Tiles);

/// <summary>
/// A picture of photo tiles with captions, in rows. <see cref="Preview"/> and <see cref="Misclassified"/> build the
/// two grids of a run report. A photo that does not decode gets a placeholder tile, never an exception.
/// </summary>
public sealed class PhotoGrid
{
    public const int MaxSamplesPerClass = 6;
    public const int MaxMisclassifiedTiles = 24;

    public static readonly SKColor PlaceholderColor = new(0xE5, 0xE7, 0xEB);
    internal static readonly SKColor Ink = new(0x11, 0x18, 0x27);
    internal static readonly SKColor Muted = new(0x6B, 0x72, 0x80);
    internal static readonly SKColor Wrong = new(0xB9, 0x1C, 0x1C);
    internal static readonly SKColor Right = new(0x15, 0x80, 0x3D);

    private const int Padding = 16, Gap = 10, TitleHeight = 34, SubtitleHeight = 20, LineHeight = 17, HeaderMaxWidth = 180;
    private const float TitleSize = 18, HeaderSize = 15, CaptionSize = 12.5f;

    private readonly string? _title, _subtitle;
    private readonly IReadOnlyList<PhotoGridRow> _rows;
    private readonly int _tile, _columns, _lines, _headerWidth;

    public PhotoGrid(string? title, IReadOnlyList<PhotoGridRow> rows, int tileSize = 128, string? subtitle = null)
    {
        _title = title;
        _subtitle = subtitle;
        _rows = rows;
        _tile = tileSize;
        _columns = Math.Max(1, rows.Select(r => r.Tiles.Count).DefaultIfEmpty(0).Max());
        _lines = rows.SelectMany(r => r.Tiles).Select(t => t.Captions.Count).DefaultIfEmpty(0).Max();
        var headers = rows.Select(r => r.Header).OfType<string>().ToList();
        _headerWidth = headers.Count == 0 ? 0 : (int)Math.Ceiling(Math.Min(HeaderMaxWidth,
            headers.Max(h => { using var f = ReportFont.For(h, HeaderSize, bold: true); return f.MeasureText(h); }))) + Gap * 2;
        int width = Padding * 2 + _headerWidth + _columns * _tile + (_columns - 1) * Gap;
        int height = Top + Math.Max(1, rows.Count) * RowHeight - Gap + Padding;
        Size = new SKSizeI(Math.Max(width, 480), height);
    }

    public SKSizeI Size { get; }

    private int Top => Padding + (_title is null ? 0 : TitleHeight) + (_subtitle is null ? 0 : SubtitleHeight);
    private int RowHeight => _tile + _lines * LineHeight + 6 + Gap;

    public SKRectI TileBounds(int row, int column)
    {
        int x = Padding + _headerWidth + column * (_tile + Gap), y = Top + row * RowHeight;
        return new SKRectI(x, y, x + _tile, y + _tile);
    }

    public SKRectI CaptionBounds(int row, int column)
    {
        var tile = TileBounds(row, column);
        return new SKRectI(tile.Left, tile.Bottom + 2, tile.Right, tile.Bottom + 4 + _lines * LineHeight);
    }

    public SKRectI HeaderBounds(int row)
    {
        int y = Top + row * RowHeight;
        return new SKRectI(Padding, y, Padding + _headerWidth - Gap, y + _tile);
    }

    /// <summary>JPEG quality of <see cref="ToJpeg"/>; full chroma (4:4:4) keeps the red and green captions crisp.</summary>
    public const int JpegQuality = 90;

    /// <summary>
    /// The grid as a JPEG: it is mostly photos, which JPEG encodes several times faster than PNG, into a quarter of
    /// the bytes. Two grids are drawn in every training run.
    /// </summary>
    public byte[] ToJpeg()
    {
        using var surface = SKSurface.Create(new SKImageInfo(Size.Width, Size.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { IsAntialias = true };

        if (_title is not null)
        {
            using var font = ReportFont.For(_title, TitleSize, bold: true);
            paint.Color = Ink;
            canvas.DrawText(ReportFont.Fit(_title, font, Size.Width - 2 * Padding), Padding, Padding + TitleSize, SKTextAlign.Left, font, paint);
        }
        if (_subtitle is not null)
        {
            using var font = ReportFont.For(_subtitle, CaptionSize);
            paint.Color = Muted;
            canvas.DrawText(ReportFont.Fit(_subtitle, font, Size.Width - 2 * Padding), Padding, Top - Gap - 4, SKTextAlign.Left, font, paint);
        }
        if (_rows.Count == 0 || _rows.All(r => r.Tiles.Count == 0))
        {
            using var font = ReportFont.For("No photos", CaptionSize);
            paint.Color = Muted;
            canvas.DrawText("No photos", Padding, Top + 20, SKTextAlign.Left, font, paint);
        }

        for (int r = 0; r < _rows.Count; r++)
        {
            var row = _rows[r];
            if (row.Header is not null)
            {
                var bounds = HeaderBounds(r);
                using var font = ReportFont.For(row.Header, HeaderSize, bold: true);
                paint.Color = Ink;
                canvas.DrawText(ReportFont.Fit(row.Header, font, bounds.Width), bounds.Left, bounds.MidY + HeaderSize / 3, SKTextAlign.Left, font, paint);
            }
            for (int c = 0; c < row.Tiles.Count; c++)
                DrawTile(canvas, paint, row.Tiles[c], TileBounds(r, c), CaptionBounds(r, c));
        }

        using var image = surface.Snapshot();
        using var pixels = image.PeekPixels();
        using var jpeg = pixels.Encode(new SKJpegEncoderOptions(JpegQuality, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore))
            ?? throw new InvalidOperationException("SkiaSharp could not encode the photo grid as JPEG");
        return jpeg.ToArray();
    }

    private static void DrawTile(SKCanvas canvas, SKPaint paint, PhotoTile tile, SKRectI bounds, SKRectI caption)
    {
        using (var photo = PhotoThumbnail.Decode(tile.Photo, bounds.Width))
        {
            if (photo is not null) PhotoThumbnail.DrawCover(canvas, photo, bounds);
            else DrawPlaceholder(canvas, paint, bounds, tile.Photo is null ? "missing photo" : "unreadable photo");
        }
        float y = caption.Top + LineHeight - 4;
        foreach (var line in tile.Captions)
        {
            using var font = ReportFont.For(line.Text, CaptionSize, line.Bold);
            paint.Color = line.Color;
            canvas.DrawText(ReportFont.Fit(line.Text, font, caption.Width), caption.Left, y, SKTextAlign.Left, font, paint);
            y += LineHeight;
        }
    }

    private static void DrawPlaceholder(SKCanvas canvas, SKPaint paint, SKRectI bounds, string text)
    {
        paint.Style = SKPaintStyle.Fill;
        paint.Color = PlaceholderColor;
        canvas.DrawRect(bounds, paint);
        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeWidth = 1.5f;
        paint.Color = new SKColor(0xC4, 0xC8, 0xCF);
        canvas.DrawLine(bounds.Left, bounds.Top, bounds.Right, bounds.Bottom, paint);
        canvas.DrawLine(bounds.Right, bounds.Top, bounds.Left, bounds.Bottom, paint);
        paint.Style = SKPaintStyle.Fill;
        using var font = ReportFont.For(text, CaptionSize);
        float width = font.MeasureText(text) + 12;
        paint.Color = PlaceholderColor;
        canvas.DrawRect(SKRect.Create(bounds.MidX - width / 2, bounds.MidY - 11, width, 20), paint);
        paint.Color = Muted;
        canvas.DrawText(text, bounds.MidX, bounds.MidY + 4, SKTextAlign.Center, font, paint);
    }

    /// <summary>The preview: one row per class (in <paramref name="classOrder"/>, then any others), up to
    /// <see cref="MaxSamplesPerClass"/> photos each, headed by the class name and captioned with the file name.</summary>
    public static PhotoGrid Preview(IReadOnlyList<SamplePhoto> samples, IReadOnlyList<string> classOrder, int tileSize = 128)
    {
        var byClass = samples.GroupBy(s => s.Class).ToDictionary(g => g.Key, g => g.Take(MaxSamplesPerClass).ToList());
        var rows = classOrder.Where(byClass.ContainsKey).Concat(byClass.Keys.Except(classOrder))
            .Select(c => new PhotoGridRow(c, byClass[c]
                .Select(s => new PhotoTile(s.Bytes, [new Caption(FileName(s.Image), Muted)])).ToList()))
            .ToList();
        return new PhotoGrid("Sample photos per class", rows, tileSize);
    }

    /// <summary>The wrong test photos, most confident first, at most <paramref name="max"/>, each captioned
    /// with the predicted label and confidence, the true label and the file name.</summary>
    public static PhotoGrid Misclassified(IReadOnlyList<Misclassification> wrong, Func<string, byte[]?> readPhoto,
        int max = MaxMisclassifiedTiles, int columns = 6, int tileSize = 128)
    {
        var worst = WorstFirst(wrong).Take(max).ToList();
        var tiles = worst.Select(m => new PhotoTile(TryRead(readPhoto, m.Image),
        [
            new Caption(FormattableString.Invariant($"{m.Confidence * 100:F0}% {m.Predicted}"), Wrong, Bold: true),
            new Caption($"true: {m.Actual}", Right),
            new Caption(FileName(m.Image), Muted),
        ])).ToList();
        var rows = tiles.Chunk(columns).Select(chunk => new PhotoGridRow(null, chunk)).ToList();
        string title = wrong.Count == 0 ? "No misclassified test photos"
            : worst.Count == wrong.Count ? $"Misclassified test photos: all {wrong.Count}, most confident first"
            : $"Misclassified test photos: worst {worst.Count} of {wrong.Count}, most confident first";
        return new PhotoGrid(title, rows, tileSize,
            wrong.Count == 0 ? null : "red: predicted label with its confidence · green: true label");
    }

    /// <summary>Most confident mistakes first; ties keep the input order.</summary>
    internal static IEnumerable<Misclassification> WorstFirst(IEnumerable<Misclassification> wrong) =>
        wrong.OrderByDescending(m => m.Confidence);

    private static byte[]? TryRead(Func<string, byte[]?> readPhoto, string image)
    {
        // A thumbnail is not worth losing the report for: a photo that cannot be read becomes a placeholder tile.
        try { return readPhoto(image); }
        catch (Exception e) when (e is not OperationCanceledException) { return null; }
    }

    private static string FileName(string image) => image[(image.LastIndexOf('/') + 1)..];
}
