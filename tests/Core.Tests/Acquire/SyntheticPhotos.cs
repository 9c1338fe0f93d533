using SkiaSharp;

namespace Flowers.Tests.Acquire;

/// <summary>Small photos drawn with SkiaSharp: each seed gives different pixels, hence different bytes.</summary>
public static class SyntheticPhotos
{
    public static byte[] Jpeg(int seed, int size = 24) => Draw(seed, size, SKEncodedImageFormat.Jpeg);
    public static byte[] Png(int seed, int size = 24) => Draw(seed, size, SKEncodedImageFormat.Png);
    public static byte[] Webp(int seed, int size = 24) => Draw(seed, size, SKEncodedImageFormat.Webp);

    private static byte[] Draw(int seed, int size, SKEncodedImageFormat format)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(size, size);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            using var paint = new SKPaint { IsAntialias = true };
            for (var i = 0; i < 4; i++)
            {
                paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                canvas.DrawCircle(random.Next(size), random.Next(size), 2 + random.Next(size / 2), paint);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>
    /// Writes class folders of distinct JPEGs under <paramref name="root"/>, e.g. {"daisy": 3, "roses": 4};
    /// file names are "{class}_{i}.jpg". Returns the folder holding the classes.
    /// </summary>
    public static string WriteClasses(string root, IReadOnlyDictionary<string, int> counts, int seedBase = 0)
    {
        var seed = seedBase;
        foreach (var (cls, count) in counts)
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (var i = 0; i < count; i++)
                File.WriteAllBytes(Path.Combine(root, cls, $"{cls}_{i}.jpg"), Jpeg(++seed * 7919));
        }
        return root;
    }
}
