using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Flowers.Featurize;

/// <summary>
/// Many photos' features (content hash -> <see cref="PhotoFeatures"/>) in one binary blob: the local bottleneck
/// cache's files and the pipeline's feature blobs.
/// <code>
/// "FLFS"  u16 format version (1)  u16 id length + UTF-8 featurizer id  i32 dimension  i32 views  i32 count
/// count x ( u8 key length + UTF-8 key   views x dimension x f32 )        all little-endian
/// </code>
/// </summary>
public sealed class FeatureShard
{
    public const ushort FormatVersion = 1;
    static ReadOnlySpan<byte> Magic => "FLFS"u8;

    public string FeaturizerId { get; }
    public int Dimension { get; }
    public int ViewCount { get; }
    public IReadOnlyDictionary<string, PhotoFeatures> Items { get; }

    /// <exception cref="ArgumentException">An item's views differ from <paramref name="viewCount"/> x <paramref name="dimension"/>.</exception>
    public FeatureShard(string featurizerId, int dimension, int viewCount, IReadOnlyDictionary<string, PhotoFeatures> items)
    {
        ArgumentException.ThrowIfNullOrEmpty(featurizerId);
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        if (viewCount <= 0) throw new ArgumentOutOfRangeException(nameof(viewCount));
        foreach (var (key, features) in items)
        {
            if (string.IsNullOrEmpty(key) || Encoding.UTF8.GetByteCount(key) > byte.MaxValue)
                throw new ArgumentException($"key '{key}' must be 1..255 UTF-8 bytes", nameof(items));
            if (features.Views.Length != viewCount || features.Views.Any(v => v.Length != dimension))
                throw new ArgumentException(
                    $"{key}: expected {viewCount} views of {dimension} values, got {features.Views.Length} views of {string.Join("/", features.Views.Select(v => v.Length))}",
                    nameof(items));
        }
        (FeaturizerId, Dimension, ViewCount, Items) = (featurizerId, dimension, viewCount, items);
    }

    /// <summary>A shard of items that all have the same shape (taken from the first; empty = 1 view of 1 value).</summary>
    public static FeatureShard Of(string featurizerId, IReadOnlyDictionary<string, PhotoFeatures> items)
    {
        var first = items.Values.FirstOrDefault();
        return new FeatureShard(featurizerId, first?.Dimension ?? 1, first?.Views.Length ?? 1, items);
    }

    public void WriteTo(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true); // BinaryWriter is little-endian
        writer.Write(Magic);
        writer.Write(FormatVersion);
        var id = Encoding.UTF8.GetBytes(FeaturizerId);
        writer.Write((ushort)id.Length);
        writer.Write(id);
        writer.Write(Dimension);
        writer.Write(ViewCount);
        writer.Write(Items.Count);
        var buffer = new byte[Dimension * sizeof(float)];
        foreach (var (key, features) in Items)
        {
            var k = Encoding.UTF8.GetBytes(key);
            writer.Write((byte)k.Length);
            writer.Write(k);
            foreach (var view in features.Views)
            {
                FloatsToBytes(view, buffer);
                writer.Write(buffer);
            }
        }
    }

    /// <exception cref="InvalidDataException">Not a feature shard, a newer format, or cut short.</exception>
    public static FeatureShard ReadFrom(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!reader.ReadBytes(4).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a feature shard (bad magic)");
            var version = reader.ReadUInt16();
            if (version != FormatVersion)
                throw new InvalidDataException($"feature shard format {version} is not supported (this build reads {FormatVersion})");
            var id = Encoding.UTF8.GetString(Exactly(reader, reader.ReadUInt16()));
            var (dimension, views, count) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
            if (dimension <= 0 || views <= 0 || count < 0 || (long)dimension * views > 1 << 24)
                throw new InvalidDataException($"feature shard header is corrupt ({dimension} x {views} views, {count} items)");
            var items = new Dictionary<string, PhotoFeatures>(count);
            var buffer = new byte[dimension * sizeof(float)];
            for (var i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetString(Exactly(reader, reader.ReadByte()));
                var vectors = new float[views][];
                for (var v = 0; v < views; v++)
                {
                    reader.BaseStream.ReadExactly(buffer);
                    vectors[v] = BytesToFloats(buffer);
                }
                items[key] = new PhotoFeatures(vectors);
            }
            return new FeatureShard(id, dimension, views, items);
        }
        catch (EndOfStreamException) { throw new InvalidDataException("feature shard is truncated"); }
    }

    static byte[] Exactly(BinaryReader reader, int count)
    {
        var bytes = reader.ReadBytes(count);
        return bytes.Length == count ? bytes : throw new EndOfStreamException();
    }

    static void FloatsToBytes(float[] values, byte[] bytes)
    {
        if (BitConverter.IsLittleEndian) { MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes); return; }
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
    }

    static float[] BytesToFloats(byte[] bytes)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        var values = new float[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        return values;
    }
}
