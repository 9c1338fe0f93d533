using Flowers.Featurize;
using Flowers.Testing;
using SkiaSharp;

namespace Flowers.Tests.Featurize;

public class PhotoDecoderTests
{
    readonly PhotoDecoder _decoder = new(64);

    /// <summary>The RGB of the decoded pixel at (x, y).</summary>
    static (int R, int G, int B) At(PhotoPixels p, int x, int y)
    {
        var o = 4 * (y * p.Size + x);
        return (p.Rgba[o], p.Rgba[o + 1], p.Rgba[o + 2]);
    }

    static void AssertNear((int R, int G, int B) actual, SKColor expected, int tolerance = 12)
    {
        Assert.True(Math.Abs(actual.R - expected.Red) <= tolerance && Math.Abs(actual.G - expected.Green) <= tolerance
            && Math.Abs(actual.B - expected.Blue) <= tolerance, $"pixel {actual} is not near {expected}");
    }

    static void AssertQuadrants(PhotoPixels p)
    {
        Assert.Equal(64, p.Size);
        Assert.Equal(64 * 64 * 4, p.Rgba.Length);
        AssertNear(At(p, 10, 10), SKColors.Red);
        AssertNear(At(p, 53, 10), SKColors.Lime);
        AssertNear(At(p, 10, 53), SKColors.Blue);
        AssertNear(At(p, 53, 53), SKColors.White);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg, "JPEG")]
    [InlineData(SKEncodedImageFormat.Png, "PNG")]
    [InlineData(SKEncodedImageFormat.Webp, "WebP")]
    public void Decodes_formats_SkiaSharp_encodes_and_stretches_to_the_input_size(SKEncodedImageFormat format, string name)
    {
        using var bitmap = SyntheticPhotos.Quadrants(120, 80);
        var pixels = _decoder.Decode(SyntheticPhotos.Encode(bitmap, format, 100));
        AssertQuadrants(pixels);
        Assert.Equal(name, pixels.Format);
        Assert.Equal((120, 80), (pixels.SourceWidth, pixels.SourceHeight));
    }

    [Fact]
    public void Decodes_bmp()
    {
        using var bitmap = SyntheticPhotos.Quadrants(50, 30);
        var pixels = _decoder.Decode(SyntheticPhotos.Bmp(bitmap));
        AssertQuadrants(pixels);
        Assert.Equal("BMP", pixels.Format);
    }

    [Fact]
    public void Decodes_the_first_frame_of_an_animated_gif()
    {
        var pixels = _decoder.Decode(SyntheticPhotos.Gif(20, 10, SKColors.Red, SKColors.Blue));
        Assert.Equal("GIF", pixels.Format);
        AssertNear(At(pixels, 0, 0), SKColors.Red, 0);
        AssertNear(At(pixels, 63, 63), SKColors.Red, 0);
    }

    [Fact]
    public void Decodes_grayscale_and_16_bit_png()
    {
        using var rgba = SyntheticPhotos.Quadrants(64, 64);
        using var gray = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Gray8, SKAlphaType.Opaque));
        using var wide = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba16161616, SKAlphaType.Premul));
        using (var source = rgba.PeekPixels())
        {
            Assert.True(source.ReadPixels(gray.Info, gray.GetPixels(), gray.RowBytes));
            Assert.True(source.ReadPixels(wide.Info, wide.GetPixels(), wide.RowBytes));
        }

        var fromGrayPng = _decoder.Decode(SyntheticPhotos.Encode(gray, SKEncodedImageFormat.Png));
        var fromGrayJpeg = _decoder.Decode(SyntheticPhotos.Encode(gray, SKEncodedImageFormat.Jpeg, 100));
        foreach (var p in new[] { fromGrayPng, fromGrayJpeg })
        {
            var (r, g, b) = At(p, 53, 53);
            Assert.True(r > 240 && r == g && g == b, $"white quadrant of a grey photo came out as {(r, g, b)}");
            var red = At(p, 10, 10);
            Assert.True(red.R == red.G && red.G == red.B && red.R is > 30 and < 120, $"red as grey came out as {red}");
        }
        AssertQuadrants(_decoder.Decode(SyntheticPhotos.Encode(wide, SKEncodedImageFormat.Png)));
    }

    [Fact]
    public void Big_jpeg_is_decoded_at_a_reduced_scale_with_the_same_picture()
    {
        using var big = SyntheticPhotos.Scene(2400, 1800);
        using var small = SyntheticPhotos.Scene(240, 180);
        var big224 = new PhotoDecoder(224).Decode(SyntheticPhotos.Encode(big, SKEncodedImageFormat.Jpeg));
        var small224 = new PhotoDecoder(224).Decode(SyntheticPhotos.Encode(small, SKEncodedImageFormat.Jpeg));
        Assert.Equal((2400, 1800), (big224.SourceWidth, big224.SourceHeight));
        Assert.True(Similarity.MeanAbsoluteDifference(big224.Rgba, small224.Rgba) < 6);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)]
    [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Every_exif_orientation_comes_out_upright(ushort orientation)
    {
        using var upright = SyntheticPhotos.Scene(96, 64);
        // What a camera stores for each orientation: the upright picture transformed by the inverse.
        using var stored = Stored(upright, orientation);
        var jpeg = SyntheticPhotos.WithExifOrientation(SyntheticPhotos.Encode(stored, SKEncodedImageFormat.Jpeg, 100), orientation);
        var expected = _decoder.Decode(SyntheticPhotos.Encode(upright, SKEncodedImageFormat.Jpeg, 100));
        var actual = _decoder.Decode(jpeg);
        Assert.Equal((96, 64), (actual.SourceWidth, actual.SourceHeight));
        Assert.True(Similarity.MeanAbsoluteDifference(expected.Rgba, actual.Rgba) < 4,
            $"orientation {orientation}: {Similarity.MeanAbsoluteDifference(expected.Rgba, actual.Rgba):0.0}");
        if (orientation != 1) // and the test can tell: ignoring the tag would give another picture
            Assert.True(Similarity.MeanAbsoluteDifference(expected.Rgba, _decoder.Decode(SyntheticPhotos.Encode(stored, SKEncodedImageFormat.Jpeg, 100)).Rgba) > 15);
    }

    static SKBitmap Stored(SKBitmap upright, ushort orientation)
    {
        var (w, h) = (upright.Width, upright.Height);
        var turned = orientation >= 5;
        var stored = new SKBitmap(new SKImageInfo(turned ? h : w, turned ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                // The EXIF meaning of each value: where upright pixel (x, y) sits in the stored image.
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, w - 1 - x),
                    7 => (h - 1 - y, w - 1 - x),
                    8 => (h - 1 - y, x),
                    _ => (x, y),
                };
                stored.SetPixel(sx, sy, upright.GetPixel(x, y));
            }
        return stored;
    }

    [Fact]
    public void Empty_bytes_are_an_empty_file() =>
        Assert.Equal("empty file", Assert.Throws<PhotoRejectedException>(() => _decoder.Decode([])).Reason);

    [Fact]
    public void Random_bytes_and_text_are_not_an_image()
    {
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        random[0] = 0x42; // never a real signature by chance
        foreach (var bytes in new[] { random, "daisy,dandelion,rose\nthis is a CSV, not a photo\n"u8.ToArray() })
            Assert.Equal("not an image (unrecognised format)", Assert.Throws<PhotoRejectedException>(() => _decoder.Decode(bytes)).Reason);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.05)]
    public void Truncated_jpeg_is_named(double kept)
    {
        using var scene = SyntheticPhotos.Scene(200, 150);
        var jpeg = SyntheticPhotos.Encode(scene, SKEncodedImageFormat.Jpeg, 95);
        var cut = jpeg[..(int)(jpeg.Length * kept)];
        Assert.Equal("truncated or corrupt JPEG", Assert.Throws<PhotoRejectedException>(() => _decoder.Decode(cut)).Reason);
    }

    [Fact]
    public void Huge_dimensions_are_refused_before_decoding()
    {
        var bomb = SyntheticPhotos.PngHeaderOnly(50000, 50000);
        var e = Assert.Throws<PhotoRejectedException>(() => _decoder.Decode(bomb));
        Assert.StartsWith("too large: 50000x50000 pixels (limit", e.Reason);

        var tall = SyntheticPhotos.PngHeaderOnly(100, 30000); // only 3 megapixels, but one side too long
        Assert.StartsWith("too large: 100x30000 pixels", Assert.Throws<PhotoRejectedException>(() => _decoder.Decode(tall)).Reason);
    }

    [Fact]
    public void Limits_are_configurable()
    {
        using var scene = SyntheticPhotos.Scene(300, 200);
        var jpeg = SyntheticPhotos.Encode(scene, SKEncodedImageFormat.Jpeg);
        var strict = new PhotoDecoder(64, new PhotoLimits(MaxPixels: 50_000, MaxSide: 1000));
        Assert.StartsWith("too large: 300x200 pixels", Assert.Throws<PhotoRejectedException>(() => strict.Decode(jpeg)).Reason);
    }

    [Fact]
    public void Mirrored_pixels_swap_left_and_right()
    {
        using var bitmap = SyntheticPhotos.Quadrants(64, 64);
        var mirrored = _decoder.Decode(SyntheticPhotos.Encode(bitmap, SKEncodedImageFormat.Png)).Mirrored();
        AssertNear(At(mirrored, 10, 10), SKColors.Lime, 0);
        AssertNear(At(mirrored, 53, 53), SKColors.Blue, 0);
    }
}
