using SkiaSharp;

namespace Flowers.Testing;

/// <summary>
/// Photos drawn with SkiaSharp for tests that must not need the real data set: each class has its own
/// shape and colour family, with random position, size, tint and background, so a classifier on CNN
/// features can learn them but no two photos are the same.
/// </summary>
public static class SyntheticPhotos
{
    public static readonly IReadOnlyList<string> Classes = ["circle", "square", "stripes"];

    /// <summary>A JPEG of <paramref name="photoClass"/> (one of <see cref="Classes"/>; any other name gets noise).</summary>
    public static byte[] Jpeg(string photoClass, int seed, int size = 96)
    {
        var random = new Random(HashCode.Combine(photoClass, seed) & 0x7fffffff ^ seed * 7919);
        using var surface = SKSurface.Create(new SKImageInfo(size, size));
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor((byte)random.Next(160, 256), (byte)random.Next(160, 256), (byte)random.Next(160, 256)));
        using var paint = new SKPaint { IsAntialias = true };
        var c = size / 2f + random.Next(-size / 8, size / 8);
        var r = size * (0.2f + (float)random.NextDouble() * 0.15f);
        switch (photoClass)
        {
            case "circle":
                paint.Color = new SKColor((byte)random.Next(180, 256), (byte)random.Next(0, 60), (byte)random.Next(0, 60));
                canvas.DrawCircle(c, c, r, paint);
                break;
            case "square":
                paint.Color = new SKColor((byte)random.Next(0, 60), (byte)random.Next(120, 200), (byte)random.Next(0, 60));
                canvas.DrawRect(c - r, c - r, 2 * r, 2 * r, paint);
                break;
            case "stripes":
                paint.Color = new SKColor((byte)random.Next(0, 60), (byte)random.Next(0, 60), (byte)random.Next(150, 256));
                for (var x = random.Next(0, 6); x < size; x += 12) canvas.DrawRect(x, 0, 5, size, paint);
                break;
            default:
                for (var i = 0; i < 40; i++)
                {
                    paint.Color = new SKColor((uint)random.Next() | 0xff000000);
                    canvas.DrawCircle(random.Next(size), random.Next(size), random.Next(2, size / 4), paint);
                }
                break;
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>
    /// A data-set folder (one sub-folder per class of <see cref="Classes"/>, <paramref name="perClass"/> photos each,
    /// named "{class}-000.jpg"...), made in a new temporary folder whose name starts with <paramref name="prefix"/>.
    /// With <paramref name="broken"/>, also circle/broken.jpg: a cut-off JPEG that a run must skip, not fail on.
    /// </summary>
    public static string WriteFolder(int perClass, string prefix = "flowers-photos-", int seed = 0, bool broken = false) =>
        WriteFolder(Directory.CreateTempSubdirectory(prefix).FullName, perClass, seed, broken);

    /// <summary>The same, into <paramref name="folder"/>.</summary>
    public static string WriteFolder(string folder, int perClass, int seed = 0, bool broken = false)
    {
        foreach (var photoClass in Classes)
        {
            Directory.CreateDirectory(Path.Combine(folder, photoClass));
            for (var i = 0; i < perClass; i++)
                File.WriteAllBytes(Path.Combine(folder, photoClass, $"{photoClass}-{i:D3}.jpg"), Jpeg(photoClass, seed + i));
        }
        if (broken)
        {
            var whole = Jpeg("circle", -1);
            File.WriteAllBytes(Path.Combine(folder, "circle", "broken.jpg"), whole[..(whole.Length / 3)]);
        }
        return folder;
    }

    /// <summary>Bytes that no decoder takes for a photo.</summary>
    public static byte[] NotAPhoto(string text = "this is not a photo") => System.Text.Encoding.UTF8.GetBytes(text);
}
