using SkiaSharp;

namespace Flowers.Report;

/// <summary>
/// The typeface of every chart: DejaVu Sans, embedded in the assembly. SkiaSharp's default typeface draws
/// nothing on a machine without system fonts (a fresh Debian, a Functions container), so charts never rely on it.
/// </summary>
public static class ReportFont
{
    private static readonly Lazy<SKTypeface> Embedded = new(() =>
    {
        using var stream = typeof(ReportFont).Assembly.GetManifestResourceStream("Flowers.Report.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("Embedded font Flowers.Report.DejaVuSans.ttf is missing from Flowers.Core");
        return SKTypeface.FromStream(stream)
            ?? throw new InvalidOperationException("Embedded font Flowers.Report.DejaVuSans.ttf could not be loaded");
    });

    public static SKTypeface Typeface => Embedded.Value;

    /// <summary>A font for <paramref name="text"/>: DejaVu Sans, or a system font that has the glyphs DejaVu lacks (e.g. CJK class names).</summary>
    public static SKFont For(string text, float size, bool bold = false)
    {
        return new SKFont(TypefaceFor(text), size) { Edging = SKFontEdging.Antialias, Subpixel = true, Embolden = bold };
    }

    /// <summary><paramref name="text"/> shortened with "…" so that it is at most <paramref name="maxWidth"/> wide.</summary>
    public static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (font.MeasureText(text[..mid] + "…") <= maxWidth) lo = mid; else hi = mid - 1;
        }
        return text[..lo] + "…";
    }

    private static SKTypeface TypefaceFor(string text)
    {
        var embedded = Typeface;
        using var probe = new SKFont(embedded);
        if (probe.ContainsGlyphs(text)) return embedded;
        foreach (var rune in text.EnumerateRunes())
            if (!probe.ContainsGlyph(rune.Value))
                return SKFontManager.Default.MatchCharacter(rune.Value) ?? embedded;
        return embedded;
    }
}
