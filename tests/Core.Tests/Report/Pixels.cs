using SkiaSharp;

namespace Flowers.Tests.Report;

/// <summary>Reads pictures back for assertions about what was drawn.</summary>
internal static class Pixels
{
    public static SKBitmap Decode(byte[] picture) =>
        SKBitmap.Decode(picture) ?? throw new InvalidDataException("not a decodable image");

    public static double Luminance(SKColor c) => 0.2126 * c.Red + 0.7152 * c.Green + 0.0722 * c.Blue;

    public static double Saturation(SKColor c)
    {
        c.ToHsv(out _, out float s, out _);
        return s;
    }

    public static int Count(SKBitmap bitmap, SKRectI area, Func<SKColor, bool> predicate)
    {
        int count = 0;
        for (int y = Math.Max(0, area.Top); y < Math.Min(bitmap.Height, area.Bottom); y++)
            for (int x = Math.Max(0, area.Left); x < Math.Min(bitmap.Width, area.Right); x++)
                if (predicate(bitmap.GetPixel(x, y))) count++;
        return count;
    }

    /// <summary>Pixels clearly darker than the white page: text or photo, not background.</summary>
    public static int Dark(SKBitmap bitmap, SKRectI area, double below = 110) =>
        Count(bitmap, area, c => Luminance(c) < below);

    /// <summary>The same colour give or take what JPEG's rounding moves it (the photo grids are JPEGs).</summary>
    public static bool Near(SKColor expected, SKColor actual, int tolerance = 6) =>
        Math.Abs(expected.Red - actual.Red) <= tolerance && Math.Abs(expected.Green - actual.Green) <= tolerance
        && Math.Abs(expected.Blue - actual.Blue) <= tolerance;

    public static int Distinct(SKBitmap bitmap) => bitmap.Pixels.Select(p => (uint)p).Distinct().Count();

    public static double NonWhiteShare(SKBitmap bitmap) =>
        (double)bitmap.Pixels.Count(p => Luminance(p) < 245) / (bitmap.Width * bitmap.Height);
}
