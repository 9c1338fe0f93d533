using Flowers.Featurize;
using Flowers.Testing;
using SkiaSharp;

namespace Flowers.Tests.Featurize;

/// <summary>Large photos under the pixel limit: decoded scaled where the codec can, and never too many at once.</summary>
public class DecodeMemoryTests
{
    private static byte[] Large(SKEncodedImageFormat format, int width, int height)
    {
        using var bitmap = SyntheticPhotos.Scene(width, height);
        return SyntheticPhotos.Encode(bitmap, format, quality: 80);
    }

    [Fact]
    public void Eight_large_PNGs_at_once_hold_at_most_the_budgets_pixels()
    {
        var png = Large(SKEncodedImageFormat.Png, 3000, 2000); // 6 MP, decoded at full size (PNG cannot scale)
        var budget = new DecodeBudget(13_000_000);              // room for two at once
        var decoder = new PhotoDecoder(288, budget: budget);

        var decoded = new PhotoPixels[8];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => decoded[i] = decoder.Decode(png));

        Assert.All(decoded, p => Assert.Equal((3000, 2000, "PNG"), (p.SourceWidth, p.SourceHeight, p.Format)));
        // Never three at once (18 MP); without a budget all eight (48 MP) could be held together.
        Assert.InRange(budget.PeakPixels, 6_000_000, 13_000_000);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg, "JPEG")]
    [InlineData(SKEncodedImageFormat.Webp, "WebP")]
    public void A_large_JPEG_or_WebP_is_decoded_scaled(SKEncodedImageFormat format, string name)
    {
        var photo = Large(format, 4000, 3000); // 12 MP
        var budget = new DecodeBudget(100_000_000);

        var pixels = new PhotoDecoder(288, budget: budget).Decode(photo);

        Assert.Equal((4000, 3000, name), (pixels.SourceWidth, pixels.SourceHeight, pixels.Format));
        Assert.True(budget.PeakPixels <= 12_000_000 / 4, $"{name} held {budget.PeakPixels} pixels: decoded at (near) full size");
    }

    [Fact]
    public void A_photo_larger_than_the_budget_is_decoded_alone()
    {
        var png = Large(SKEncodedImageFormat.Png, 2000, 1500);
        var budget = new DecodeBudget(1_000_000);

        var pixels = new PhotoDecoder(288, budget: budget).Decode(png);

        Assert.Equal(2000, pixels.SourceWidth);
        Assert.Equal(1_000_000, budget.PeakPixels);
    }
}
