using System.Buffers.Binary;

namespace Flowers.Acquire;

/// <summary>Recognises photo files by name and by their first bytes (decoding happens later, in Featurize).</summary>
public static class PhotoFormat
{
    /// <summary>Enough leading bytes for <see cref="Detect"/>.</summary>
    public const int HeaderLength = 32;

    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".dib", ".gif",
    };

    /// <summary>Whether the file name says "photo" (the content may still disagree).</summary>
    public static bool HasImageExtension(string fileName) => ImageExtensions.Contains(Path.GetExtension(fileName));

    /// <summary>"jpeg", "png", "webp", "bmp" or "gif" from the magic bytes; null when none matches.</summary>
    public static string? Detect(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            return "jpeg";
        if (header.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            return "png";
        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8))
            return "gif";
        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8))
            return "webp";
        // "BM" alone is too weak (a text file may start so): also require a known DIB header size.
        if (header.Length >= 18 && header.StartsWith("BM"u8)
            && BinaryPrimitives.ReadUInt32LittleEndian(header[14..18]) is 12 or 16 or 40 or 52 or 56 or 64 or 108 or 124)
            return "bmp";
        return null;
    }

    /// <summary>A short description of unrecognised leading bytes for a skip reason.</summary>
    internal static string Describe(ReadOnlySpan<byte> header) =>
        header.IsEmpty ? "the file is empty" : $"its first bytes {Convert.ToHexString(header[..Math.Min(8, header.Length)])} are not JPEG, PNG, WebP, BMP or GIF";
}
