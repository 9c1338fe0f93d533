using Flowers.Featurize;

namespace Flowers.Reliability.Tests;

/// <summary>CMYK JPEGs (Adobe-style, made with ImageMagick: Assets/README.md) are decoded with their colours, not refused.</summary>
public sealed class CmykPhotoTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static byte[] Asset(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Assets", name));

    [Fact]
    public void A_solid_colour_CMYK_photo_decodes_close_to_its_RGB_colour()
    {
        var pixels = new PhotoDecoder(32).Decode(Asset("cmyk-solid-200-40-60.jpg"));
        var centre = (16 * 32 + 16) * 4;
        var (r, g, b) = (pixels.Rgba[centre], pixels.Rgba[centre + 1], pixels.Rgba[centre + 2]);
        output.WriteLine($"{pixels.Format} {pixels.SourceWidth}x{pixels.SourceHeight}: centre RGB {r},{g},{b} (made from 200,40,60)");
        Assert.InRange(r, 200 - 12, 200 + 12);
        Assert.InRange(g, 40 - 12, 40 + 12);
        Assert.InRange(b, 60 - 12, 60 + 12);
    }
}
