using System.Buffers;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Flowers.Featurize;

/// <summary>
/// Sizes beyond which a photo is refused before any pixel is decoded: a few hundred bytes of PNG header can
/// claim 50000x50000 pixels (a decompression bomb) and would otherwise cost gigabytes.
/// </summary>
public sealed record PhotoLimits(long MaxPixels = 40_000_000, int MaxSide = 20_000);

/// <summary>
/// Bounds the memory of decodes that run at once: each holds its decoded pixels' count (4 bytes each) until it has
/// shrunk them to the network's size; a decode waits while the others hold too many. PNG, BMP and GIF cannot be
/// decoded scaled, so a 40-megapixel one holds 160 MB, and several at once (training's and labelling's decodes side by
/// side) cost gigabytes. One process-wide budget, <see cref="Shared"/>; a photo larger than it runs alone.
/// </summary>
public sealed class DecodeBudget(long pixels)
{
    /// <summary>48 megapixels (192 MB of pixels): one photo at the pixel limit beside several ordinary ones.</summary>
    public static DecodeBudget Shared { get; } = new(48_000_000);

    private readonly object _lock = new(); // Monitor, for Wait/PulseAll
    private long _inUse, _peak;

    public long Pixels { get; } = pixels > 0 ? pixels : throw new ArgumentOutOfRangeException(nameof(pixels));

    /// <summary>The most pixels held at once so far (for tests and measurements).</summary>
    public long PeakPixels { get { lock (_lock) return _peak; } }

    internal Lease Hold(long wanted)
    {
        var weight = Math.Min(wanted, Pixels);
        lock (_lock)
        {
            while (_inUse + weight > Pixels) Monitor.Wait(_lock);
            _inUse += weight;
            _peak = Math.Max(_peak, _inUse);
        }
        return new Lease(this, weight);
    }

    internal readonly struct Lease(DecodeBudget budget, long weight) : IDisposable
    {
        public void Dispose()
        {
            lock (budget._lock)
            {
                budget._inUse -= weight;
                Monitor.PulseAll(budget._lock);
            }
        }
    }
}

/// <summary>
/// Turns encoded photo bytes (JPEG, PNG, WebP, BMP, GIF: its first frame) into upright pixels stretched to
/// a square of the network's input size. EXIF orientation is honoured, colour profiles are converted to
/// sRGB, grey, CMYK and 16-bit sources come out as 8-bit RGB. Thread-safe (it holds no state).
/// </summary>
public sealed class PhotoDecoder(int size, PhotoLimits? limits = null, DecodeBudget? budget = null)
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size));
    public PhotoLimits Limits { get; } = limits ?? new PhotoLimits();
    public DecodeBudget Budget { get; } = budget ?? DecodeBudget.Shared;

    // Bilinear for growing and mild shrinking: a Mitchell cubic costs more than twice as much in Skia and changes
    // nothing the network sees. For stronger shrinking (what is left after the JPEG codec's own 1/2, 1/4, 1/8
    // scaling) mipmaps avoid aliasing.
    static readonly SKSamplingOptions Bilinear = new(SKFilterMode.Linear);
    static readonly SKSamplingOptions Mipmapped = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    static readonly SKColorSpace Srgb = SKColorSpace.CreateSrgb();

    /// <exception cref="PhotoRejectedException">The bytes are not a photo we can read.</exception>
    public PhotoPixels Decode(ReadOnlySpan<byte> encoded) => Decode(encoded, pooled: false);

    /// <summary>
    /// With <paramref name="pooled"/>, the pixels live in an array rented from <see cref="ArrayPool{T}.Shared"/>
    /// (possibly longer than needed) that the caller returns: at dozens of photos a second, fresh 200 KB arrays
    /// on the large object heap cost more in garbage collection than decoding itself.
    /// </summary>
    internal PhotoPixels Decode(ReadOnlySpan<byte> encoded, bool pooled)
    {
        if (encoded.IsEmpty) throw new PhotoRejectedException("empty file");
        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var created)
            ?? throw new PhotoRejectedException(WhyNoCodec(encoded, created));

        var format = FormatName(codec.EncodedFormat);
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0)
            throw new PhotoRejectedException($"truncated or corrupt {format}");
        if (width > Limits.MaxSide || height > Limits.MaxSide || (long)width * height > Limits.MaxPixels)
            throw new PhotoRejectedException(
                $"too large: {width}x{height} pixels (limit {Limits.MaxPixels / 1e6:0.#} megapixels, {Limits.MaxSide} pixels a side)");

        // Big JPEGs and WebPs: let the codec decode scaled (JPEG at 1/2, 1/4 or 1/8, WebP at any size; far cheaper than
        // full size + shrink), as long as both sides stay at least the output size. PNG, BMP and GIF decode at full size.
        var decoded = new SKSizeI(width, height);
        var wanted = Math.Max((float)Size / width, (float)Size / height);
        if (wanted < 1f)
        {
            var scaled = codec.GetScaledDimensions(wanted);
            if (scaled.Width >= Size && scaled.Height >= Size && scaled.Width < width) decoded = scaled;
        }

        using var held = Budget.Hold((long)decoded.Width * decoded.Height);
        var info = new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb);
        using var source = new SKBitmap(info);
        var result = codec.GetPixels(info, source.GetPixels(), new SKCodecOptions(0));
        if (result != SKCodecResult.Success)
            throw new PhotoRejectedException(result == SKCodecResult.IncompleteInput || result == SKCodecResult.ErrorInInput
                ? $"truncated or corrupt {format}"
                : $"cannot decode {format} ({result})");
        source.SetImmutable();

        return Draw(source, codec.EncodedOrigin, width, height, format, pooled);
    }

    PhotoPixels Draw(SKBitmap source, SKEncodedOrigin origin, int width, int height, string format, bool pooled)
    {
        var (w, h) = (source.Width, source.Height);
        var turned = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (uprightW, uprightH) = turned ? (h, w) : (w, h);
        var (sourceW, sourceH) = turned ? (height, width) : (width, height);
        var shrink = Math.Max((float)uprightW / Size, (float)uprightH / Size);

        // The common case (upright, at most 2x smaller): a separable bilinear resize in C# costs a fraction of
        // a Skia canvas draw, and decoding runs beside inference on the same cores.
        var length = Size * Size * 4;
        var rgba = pooled ? ArrayPool<byte>.Shared.Rent(length) : new byte[length];
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default && shrink <= 2f)
        {
            BilinearResize(source.GetPixelSpan(), source.RowBytes, w, h, Size, rgba);
            return new PhotoPixels(Size, rgba, sourceW, sourceH, format);
        }

        // Draw straight into the managed array the caller gets (no copy out of Skia's memory).
        var pinned = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            var info = new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Premul, Srgb);
            using var target = new SKBitmap();
            if (!target.InstallPixels(info, pinned.AddrOfPinnedObject(), info.RowBytes))
                throw new InvalidOperationException("SkiaSharp refused the pixel buffer");
            using var canvas = new SKCanvas(target);
            using var image = SKImage.FromBitmap(source);
            canvas.Clear(SKColors.Black); // transparent areas end up black, as premultiplied pixels do
            canvas.Scale((float)Size / uprightW, (float)Size / uprightH);
            canvas.Concat(UprightMatrix(origin, w, h));
            canvas.DrawImage(image, 0, 0, shrink > 2f ? Mipmapped : Bilinear);
            canvas.Flush();
        }
        finally { pinned.Free(); }
        return new PhotoPixels(Size, rgba, sourceW, sourceH, format);
    }

    /// <summary>
    /// Bilinear resampling of premultiplied RGBA rows to size x size, pixel centres aligned as Skia aligns them;
    /// the output is opaque (premultiplied colour = the photo over black).
    /// </summary>
    static void BilinearResize(ReadOnlySpan<byte> source, int rowBytes, int w, int h, int size, byte[] rgba)
    {
        var (x0, xw) = Taps(w, size);
        var (y0, yw) = Taps(h, size);
        // Pass 1, along x: every source row to `size` RGB columns.
        var pooledRows = ArrayPool<float>.Shared.Rent(h * size * 3);
        var rows = pooledRows.AsSpan(0, h * size * 3);
        for (var y = 0; y < h; y++)
        {
            var src = source.Slice(y * rowBytes, w * 4);
            var dst = rows.Slice(y * size * 3, size * 3);
            for (var x = 0; x < size; x++)
            {
                int a = 4 * x0[x], b = 4 * Math.Min(x0[x] + 1, w - 1);
                var t = xw[x];
                dst[3 * x] = src[a] + t * (src[b] - src[a]);
                dst[3 * x + 1] = src[a + 1] + t * (src[b + 1] - src[a + 1]);
                dst[3 * x + 2] = src[a + 2] + t * (src[b + 2] - src[a + 2]);
            }
        }
        // Pass 2, along y: blend two of those rows into each output row.
        for (var y = 0; y < size; y++)
        {
            var top = rows.Slice(y0[y] * size * 3, size * 3);
            var bottom = rows.Slice(Math.Min(y0[y] + 1, h - 1) * size * 3, size * 3);
            var t = yw[y];
            var o = y * size * 4;
            for (var x = 0; x < size; x++, o += 4)
            {
                rgba[o] = (byte)(top[3 * x] + t * (bottom[3 * x] - top[3 * x]) + 0.5f);
                rgba[o + 1] = (byte)(top[3 * x + 1] + t * (bottom[3 * x + 1] - top[3 * x + 1]) + 0.5f);
                rgba[o + 2] = (byte)(top[3 * x + 2] + t * (bottom[3 * x + 2] - top[3 * x + 2]) + 0.5f);
                rgba[o + 3] = 255;
            }
        }
        ArrayPool<float>.Shared.Return(pooledRows);
    }

    /// <summary>For each output coordinate, the first of the two source samples and the weight of the second.</summary>
    static (int[] First, float[] Weight) Taps(int from, int to)
    {
        var first = new int[to];
        var weight = new float[to];
        var scale = (double)from / to;
        for (var i = 0; i < to; i++)
        {
            var s = Math.Clamp((i + 0.5) * scale - 0.5, 0, from - 1);
            first[i] = (int)Math.Floor(s);
            weight[i] = (float)(s - first[i]);
        }
        return (first, weight);
    }

    /// <summary>Maps encoded pixel coordinates to upright ones (the EXIF orientation, as Skia defines it).</summary>
    static SKMatrix UprightMatrix(SKEncodedOrigin origin, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
        _ => SKMatrix.Identity,
    };

    static string WhyNoCodec(ReadOnlySpan<byte> bytes, SKCodecResult result)
    {
        var sniffed = Sniff(bytes);
        return sniffed switch
        {
            null => "not an image (unrecognised format)",
            "HEIF/AVIF" => "unsupported image format (HEIF/AVIF)",
            _ => $"truncated or corrupt {sniffed}",
        };
    }

    /// <summary>The format the first bytes claim, so that a damaged JPEG is not called "not an image".</summary>
    static string? Sniff(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8])) return "JPEG";
        if (b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "PNG";
        if (b.StartsWith("GIF8"u8)) return "GIF";
        if (b.StartsWith("BM"u8) && b.Length >= 14) return "BMP";
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return "WebP";
        if (b.Length >= 12 && b[4..8].SequenceEqual("ftyp"u8)) return "HEIF/AVIF";
        return null;
    }

    static string FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Bmp => "BMP",
        _ => format.ToString().ToUpperInvariant(),
    };
}

/// <summary>
/// A decoded photo: upright, stretched to <see cref="Size"/> x <see cref="Size"/>, opaque 8-bit RGBA rows.
/// </summary>
/// <param name="SourceWidth">Upright width of the photo as encoded.</param>
public sealed record PhotoPixels(int Size, byte[] Rgba, int SourceWidth, int SourceHeight, string Format)
{
    /// <summary>Planar R, G, B planes of 0..255 values: what ML.NET's ExtractPixels produces by default.</summary>
    public float[] ToPlanarRgb()
    {
        var plane = Size * Size;
        var planar = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            planar[i] = Rgba[4 * i];
            planar[plane + i] = Rgba[4 * i + 1];
            planar[2 * plane + i] = Rgba[4 * i + 2];
        }
        return planar;
    }

    /// <summary>The same photo mirrored left to right.</summary>
    public PhotoPixels Mirrored()
    {
        var mirrored = new byte[Size * Size * 4];
        var row = 4 * Size;
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                Rgba.AsSpan(y * row + 4 * x, 4).CopyTo(mirrored.AsSpan(y * row + 4 * (Size - 1 - x), 4));
        return this with { Rgba = mirrored };
    }
}
