using SkiaSharp;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>
/// Files a user may hand the product as photos. The decoder tests (tests/Core.Tests/Featurize/PhotoDecoderTests)
/// check each reason at the decoder; these go through the whole pipeline to see each one is named and loses nothing else.
/// </summary>
internal static class BadPhotos
{
    /// <summary>File name, bytes: none of them can be featurized.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Unreadable()
    {
        var jpeg = SyntheticPhotos.Jpeg("circle", 900, size: 160);
        var random = new byte[4096];
        new Random(11).NextBytes(random);
        random[0] = 0x42;
        return
        [
            ("zero-bytes.jpg", []),
            ("truncated.jpg", jpeg[..(jpeg.Length / 3)]),
            ("random-bytes.jpg", random),
            ("text-named-as-photo.jpg", "daisy,rose\nthis is a CSV, not a photo\n"u8.ToArray()),
            ("document-named-as-photo.jpg", Pdf()),
            ("bomb-50000x50000.png", SyntheticPhotos.PngHeaderOnly(50000, 50000)),
        ];
    }

    /// <summary>File name, bytes, class drawn: unusual but real photos that must be read.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes, string Class)> Readable()
    {
        using var circle = SKBitmap.Decode(SyntheticPhotos.Jpeg("circle", 901));
        using var square = SKBitmap.Decode(SyntheticPhotos.Jpeg("square", 902));
        using var stripes = SKBitmap.Decode(SyntheticPhotos.Jpeg("stripes", 903));
        using var gray = Converted(square, SKColorType.Gray8, SKAlphaType.Opaque);
        using var wide = Converted(circle, SKColorType.Rgba16161616, SKAlphaType.Premul);
        using var stored = SyntheticPhotos.RotatedCounterClockwise(stripes);
        return
        [
            ("grayscale.png", SyntheticPhotos.Encode(gray, SKEncodedImageFormat.Png), "square"),
            ("sixteen-bit.png", SyntheticPhotos.Encode(wide, SKEncodedImageFormat.Png), "circle"),
            ("animated.gif", SyntheticPhotos.Gif(40, 40, SKColors.Blue, SKColors.Red), "stripes"),
            ("exif-upright.jpg", SyntheticPhotos.Encode(stripes, SKEncodedImageFormat.Jpeg, 95), "stripes"),
            ("exif-rotated.jpg", SyntheticPhotos.WithExifOrientation(SyntheticPhotos.Encode(stored, SKEncodedImageFormat.Jpeg, 95), 6), "stripes"),
            ("Blüte mit Leerzeichen 🌷 ünïcödé.jpg", SyntheticPhotos.Jpeg("circle", 904), "circle"),
            ("cmyk-adobe.jpg", CmykPhotoTests.Asset("cmyk-circle.jpg"), "circle"),   // made with ImageMagick (Assets/README.md)
        ];
    }

    private static SKBitmap Converted(SKBitmap source, SKColorType type, SKAlphaType alpha)
    {
        var converted = new SKBitmap(new SKImageInfo(source.Width, source.Height, type, alpha));
        using var pixels = source.PeekPixels();
        if (!pixels.ReadPixels(converted.Info, converted.GetPixels(), converted.RowBytes)) throw new InvalidOperationException($"cannot convert to {type}");
        return converted;
    }

    /// <summary>A minimal one-page PDF.</summary>
    private static byte[] Pdf() =>
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"u8.ToArray();
}
