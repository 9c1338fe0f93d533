using System.Buffers.Binary;
using SkiaSharp;

namespace Flowers.Testing;

/// <summary>
/// Photos drawn with SkiaSharp for tests that must not need the real data set: classes a classifier can learn
/// (<see cref="Classes"/>), photos of random circles whose bytes differ by seed, and scenes encoded in every format
/// the decoder must read, hand-made where SkiaSharp does not encode (BMP, GIF, EXIF orientation, a PNG header only).
/// </summary>
public static class SyntheticPhotos
{
    public static readonly IReadOnlyList<string> Classes = ["circle", "square", "stripes"];

    /// <summary>A JPEG of <paramref name="photoClass"/> (one of <see cref="Classes"/>; any other name gets noise).</summary>
    public static byte[] Jpeg(string photoClass, int seed, int size = 96)
    {
        // Seeded by a hash that is the same in every process (HashCode's is not): the same class and seed draw the same
        // bytes on every test run, so content hashes, and the feature shards they fall in, do not change between runs.
        var random = new Random(StableHash(photoClass) & 0x7fffffff ^ seed * 7919);
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

    /// <summary>A small photo of random circles: each seed gives different pixels, hence different bytes.</summary>
    public static byte[] Jpeg(int seed, int size = 24) => Circles(seed, size, SKEncodedImageFormat.Jpeg);
    public static byte[] Png(int seed, int size = 24) => Circles(seed, size, SKEncodedImageFormat.Png);
    public static byte[] Webp(int seed, int size = 24) => Circles(seed, size, SKEncodedImageFormat.Webp);

    /// <summary>FNV-1a of the name's characters.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    private static byte[] Circles(int seed, int size, SKEncodedImageFormat format)
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

    /// <summary>A scene with no symmetry (so rotations and mirrors change it): gradient sky, sun, stem, petals.</summary>
    public static SKBitmap Scene(int width, int height, int variant = 0)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        var hue = variant * 47 % 360;
        using (var sky = new SKPaint
        {
            Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                [SKColor.FromHsv(hue, 60, 95), SKColor.FromHsv((hue + 120) % 360, 80, 40)], SKShaderTileMode.Clamp),
        })
            canvas.DrawRect(0, 0, width, height, sky);
        using var paint = new SKPaint { IsAntialias = true };
        paint.Color = SKColor.FromHsv((hue + 60) % 360, 90, 100);
        canvas.DrawCircle(width * 0.2f, height * 0.2f, Math.Min(width, height) * 0.12f, paint);
        paint.Color = new SKColor(30, 140, 40);
        canvas.DrawRect(width * 0.6f, height * 0.45f, width * 0.05f, height * 0.55f, paint);
        for (var i = 0; i < 6 + variant % 4; i++)
        {
            paint.Color = SKColor.FromHsv((hue + 200 + 25 * i) % 360, 85, 95);
            var angle = i * Math.PI * 2 / (6 + variant % 4);
            canvas.DrawOval(width * 0.625f + (float)Math.Cos(angle) * width * 0.12f,
                height * 0.4f + (float)Math.Sin(angle) * height * 0.12f, width * 0.07f, height * 0.05f, paint);
        }
        paint.Color = SKColors.Black;
        canvas.DrawRect(width * 0.05f, height * 0.8f, width * 0.3f, height * 0.08f, paint);
        return bitmap;
    }

    /// <summary>Four flat quadrants: red, green / blue, white.</summary>
    public static SKBitmap Quadrants(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint();
        (SKColor color, float x, float y)[] parts =
            [(SKColors.Red, 0, 0), (SKColors.Lime, width / 2f, 0), (SKColors.Blue, 0, height / 2f), (SKColors.White, width / 2f, height / 2f)];
        foreach (var (color, x, y) in parts)
        {
            paint.Color = color;
            canvas.DrawRect(x, y, width / 2f, height / 2f, paint);
        }
        return bitmap;
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 95)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}");
        return data.ToArray();
    }

    /// <summary>24-bit BMP (SkiaSharp decodes BMP but does not encode it).</summary>
    public static byte[] Bmp(SKBitmap bitmap)
    {
        var (w, h) = (bitmap.Width, bitmap.Height);
        var stride = (3 * w + 3) & ~3;
        var bytes = new byte[54 + stride * h];
        "BM"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), h); // positive: rows stored bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * h);
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var o = 54 + (h - 1 - y) * stride + 3 * x;
                (bytes[o], bytes[o + 1], bytes[o + 2]) = (c.Blue, c.Green, c.Red);
            }
        return bytes;
    }

    /// <summary>
    /// A GIF of flat-colour frames (SkiaSharp does not encode GIF). The LZW stream sends every pixel as a literal
    /// and a clear code after every two, so the code width never grows: valid, if not small.
    /// </summary>
    public static byte[] Gif(int width, int height, params SKColor[] frameColors)
    {
        var palette = frameColors.Concat(Enumerable.Repeat(SKColors.Black, 4)).Take(4).ToArray();
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        gif.Write([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0xF1, 0, 0]); // global palette of 4
        foreach (var c in palette) gif.Write([c.Red, c.Green, c.Blue]);
        for (var frame = 0; frame < frameColors.Length; frame++)
        {
            gif.Write([0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control: 0.1 s a frame
            gif.Write([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0]);
            gif.WriteByte(2); // LZW minimum code size: codes 0-3 colours, 4 clear, 5 end, 3 bits wide
            var codes = new List<int> { 4 };
            for (var p = 0; p < width * height; p++)
            {
                codes.Add(Array.IndexOf(palette, frameColors[frame]));
                if (p % 2 == 1) codes.Add(4);
            }
            codes.Add(5);
            var packed = new List<byte>();
            int buffer = 0, bits = 0;
            foreach (var code in codes)
            {
                buffer |= code << bits;
                bits += 3;
                while (bits >= 8) { packed.Add((byte)buffer); buffer >>= 8; bits -= 8; }
            }
            if (bits > 0) packed.Add((byte)buffer);
            foreach (var block in packed.Chunk(255)) { gif.WriteByte((byte)block.Length); gif.Write(block); }
            gif.WriteByte(0);
        }
        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>The JPEG with an EXIF APP1 segment carrying <paramref name="orientation"/> (1..8) right after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8,                   // big-endian TIFF header, IFD at offset 8
            0, 1,                                                      // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, // Orientation, SHORT, 1 value
            0, 0, 0, 0,                                                // no next IFD
        ];
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    /// <summary>A PNG whose header claims <paramref name="width"/> x <paramref name="height"/> pixels, with hardly any data.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(header, 4);
        png.Write(header);
        png.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, System.IO.Hashing.Crc32.HashToUInt32([.. header[4..], .. data]));
        png.Write(crc);
    }

    /// <summary>Rotates a bitmap 90 degrees counter-clockwise (what a camera stores for EXIF orientation 6).</summary>
    public static SKBitmap RotatedCounterClockwise(SKBitmap upright)
    {
        var rotated = new SKBitmap(new SKImageInfo(upright.Height, upright.Width, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(rotated);
        canvas.Translate(0, upright.Width);
        canvas.RotateDegrees(-90);
        canvas.DrawBitmap(upright, 0, 0);
        return rotated;
    }
}
