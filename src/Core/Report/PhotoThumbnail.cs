using SkiaSharp;

namespace Flowers.Report;

/// <summary>Decodes a photo small: JPEGs are decoded at a reduced scale, so a huge upload costs little.</summary>
internal static class PhotoThumbnail
{
    /// <summary>Photos larger than this are not decoded for a thumbnail.</summary>
    private const long MaxPixels = 100_000_000;

    /// <summary>The photo decoded to at least <paramref name="size"/> pixels on its short side where the codec
    /// can scale, or null when the bytes are not a decodable image.</summary>
    public static SKImage? Decode(byte[]? bytes, int size)
    {
        if (bytes is null || bytes.Length == 0) return null;
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null) return null;
        var full = codec.Info;
        if (full.Width <= 0 || full.Height <= 0 || (long)full.Width * full.Height > MaxPixels) return null;

        float scale = Math.Min(1f, (float)size / Math.Min(full.Width, full.Height));
        var scaled = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        // A truncated photo still makes a useful thumbnail: the codec fills what it could read.
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput)) return null;
        return SKImage.FromBitmap(bitmap);
    }

    /// <summary>Draws <paramref name="image"/> into <paramref name="tile"/>, cropped to fill it (centre kept).</summary>
    public static void DrawCover(SKCanvas canvas, SKImage image, SKRect tile)
    {
        float scale = Math.Max(tile.Width / image.Width, tile.Height / image.Height);
        float w = tile.Width / scale, h = tile.Height / scale;
        var source = SKRect.Create((image.Width - w) / 2, (image.Height - h) / 2, w, h);
        canvas.DrawImage(image, source, tile, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
    }
}
