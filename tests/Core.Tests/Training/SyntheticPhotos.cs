using SkiaSharp;

namespace Flowers.Tests.Training;

/// <summary>
/// Photos drawn for tests: three classes that a pretrained network tells apart at a glance (a red disc,
/// a green square, a blue triangle), each at a random place and size on a random pale background.
/// </summary>
internal static class SyntheticPhotos
{
    public static readonly string[] Classes = ["disc", "square", "triangle"];

    /// <summary>An encoded JPEG of class <paramref name="cls"/>, different for every <paramref name="seed"/>.</summary>
    public static byte[] Draw(string cls, int seed, int size = 96)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(size, size);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor((byte)random.Next(180, 255), (byte)random.Next(180, 255), (byte)random.Next(180, 255)));
            var r = size * (0.25f + 0.15f * random.NextSingle());
            var cx = size / 2f + (random.NextSingle() - 0.5f) * size * 0.3f;
            var cy = size / 2f + (random.NextSingle() - 0.5f) * size * 0.3f;
            using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
            switch (cls)
            {
                case "disc":
                    paint.Color = new SKColor((byte)random.Next(200, 256), (byte)random.Next(0, 40), (byte)random.Next(0, 40));
                    canvas.DrawCircle(cx, cy, r, paint);
                    break;
                case "square":
                    paint.Color = new SKColor((byte)random.Next(0, 40), (byte)random.Next(150, 220), (byte)random.Next(0, 40));
                    canvas.DrawRect(cx - r, cy - r, 2 * r, 2 * r, paint);
                    break;
                case "triangle":
                    paint.Color = new SKColor((byte)random.Next(0, 40), (byte)random.Next(0, 60), (byte)random.Next(180, 256));
                    using (var builder = new SKPathBuilder())
                    {
                        builder.MoveTo(cx, cy - r);
                        builder.LineTo(cx + r, cy + r);
                        builder.LineTo(cx - r, cy + r);
                        builder.Close();
                        using var path = builder.Detach();
                        canvas.DrawPath(path, paint);
                    }
                    break;
                default:
                    throw new ArgumentException($"no such synthetic class {cls}");
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>
    /// A data-set folder: <paramref name="perClass"/> photos per class, plus one file with a photo's name
    /// whose bytes are a cut-off JPEG (to be skipped, not to fail the run).
    /// </summary>
    public static string WriteDataset(string folder, int perClass, int seed = 1)
    {
        foreach (var cls in Classes)
        {
            Directory.CreateDirectory(Path.Combine(folder, cls));
            for (var i = 0; i < perClass; i++)
                File.WriteAllBytes(Path.Combine(folder, cls, $"{cls}{i:000}.jpg"), Draw(cls, seed * 1000 + Array.IndexOf(Classes, cls) * 100 + i));
        }
        var whole = Draw("disc", seed: -1);
        File.WriteAllBytes(Path.Combine(folder, "disc", "broken.jpg"), whole[..(whole.Length / 3)]);
        return folder;
    }
}

/// <summary>A temporary folder, deleted with the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("flowers-test-").FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } // best effort
    }
}
