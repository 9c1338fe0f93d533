using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Onnx;

namespace Flowers.Featurize;

/// <summary>
/// The input the ResNet18 was trained on, as ML.NET's ResNetPreprocess.onnx builds it: planar B, G, R planes of
/// 0..255 values minus a per-pixel 224x224 ImageNet mean image (no /255, no standard deviation). For other
/// input sizes the mean image is resampled to that size; <see cref="PerPixelMean"/> = false uses the three
/// channel means instead.
/// </summary>
public sealed class CaffePreprocessing
{
    const int MeanImageSize = 224;
    static readonly ConcurrentDictionary<(string, int, bool), Lazy<CaffePreprocessing>> Loaded = new();

    /// <summary>B, G, R planes of Size x Size.</summary>
    readonly float[] _mean;

    public int Size { get; }
    public bool PerPixelMean { get; }

    CaffePreprocessing(int size, bool perPixelMean, float[] mean) => (Size, PerPixelMean, _mean) = (size, perPixelMean, mean);

    public static string OnnxPath(string modelDirectory) => Path.Combine(modelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    public static CaffePreprocessing Load(int size, bool perPixelMean = true, string? modelDirectory = null)
    {
        var path = Path.GetFullPath(OnnxPath(modelDirectory ?? ResNet18Model.DefaultDirectory));
        return Loaded.GetOrAdd((path, size, perPixelMean),
            key => new Lazy<CaffePreprocessing>(() => Create(key.Item1, key.Item2, key.Item3))).Value;
    }

    static CaffePreprocessing Create(string path, int size, bool perPixelMean)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"ResNet preprocessing model not found at {path}: reference NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18", path);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var tensor = model.Graph.Initializer.Single(t => t.Dims.Count == 4);
        if (tensor.Dims[1] != 3 || tensor.Dims[2] != MeanImageSize || tensor.Dims[3] != MeanImageSize)
            throw new InvalidDataException($"{path}: unexpected mean image shape {string.Join("x", tensor.Dims)}");
        var source = tensor.FloatData.Count > 0
            ? tensor.FloatData.ToArray()
            : MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray(); // ONNX raw data is little-endian

        var plane = MeanImageSize * MeanImageSize;
        var mean = new float[3 * size * size];
        for (var c = 0; c < 3; c++)
        {
            var channel = source.AsSpan(c * plane, plane);
            var target = mean.AsSpan(c * size * size, size * size);
            if (!perPixelMean) target.Fill(Average(channel));
            else if (size == MeanImageSize) channel.CopyTo(target);
            else Resample(channel, MeanImageSize, target, size);
        }
        return new CaffePreprocessing(size, perPixelMean, mean);
    }

    /// <summary>The mean of each of the B, G, R planes.</summary>
    public (float B, float G, float R) ChannelMeans()
    {
        var plane = Size * Size;
        return (Average(_mean.AsSpan(0, plane)), Average(_mean.AsSpan(plane, plane)), Average(_mean.AsSpan(2 * plane, plane)));
    }

    /// <summary>Writes the network input for one photo (optionally mirrored left to right).</summary>
    public void Write(PhotoPixels pixels, bool mirrored, Span<float> destination)
    {
        if (pixels.Size != Size) throw new ArgumentException($"pixels are {pixels.Size} px, the network input is {Size} px");
        var plane = Size * Size;
        if (destination.Length < 3 * plane) throw new ArgumentException("destination too small", nameof(destination));
        var rgba = pixels.Rgba;
        var m = _mean.AsSpan();
        var b = destination[..plane];
        var g = destination.Slice(plane, plane);
        var r = destination.Slice(2 * plane, plane);
        for (var y = 0; y < Size; y++)
        {
            var row = y * Size;
            for (var x = 0; x < Size; x++)
            {
                var o = row + x;
                var s = 4 * (row + (mirrored ? Size - 1 - x : x));
                r[o] = rgba[s] - m[2 * plane + o];
                g[o] = rgba[s + 1] - m[plane + o];
                b[o] = rgba[s + 2] - m[o];
            }
        }
    }

    static float Average(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        return (float)(sum / values.Length);
    }

    /// <summary>Area-weighted resampling (box filter): exact averaging when shrinking; the mean image is smooth enough for it to grow too.</summary>
    static void Resample(ReadOnlySpan<float> source, int from, Span<float> target, int to)
    {
        var weights = AreaWeights(from, to);
        var rows = new float[to * from]; // shrink/grow along y first: [to rows][from columns]
        for (var ty = 0; ty < to; ty++)
            foreach (var (sy, w) in weights[ty])
                for (var x = 0; x < from; x++) rows[ty * from + x] += w * source[sy * from + x];
        for (var ty = 0; ty < to; ty++)
            for (var tx = 0; tx < to; tx++)
            {
                float v = 0;
                foreach (var (sx, w) in weights[tx]) v += w * rows[ty * from + sx];
                target[ty * to + tx] = v;
            }
    }

    /// <summary>For each target cell, the source cells it overlaps and the share of each (summing to 1).</summary>
    static List<(int Index, float Weight)>[] AreaWeights(int from, int to)
    {
        var result = new List<(int, float)>[to];
        var scale = (double)from / to;
        for (var t = 0; t < to; t++)
        {
            var (start, end) = (t * scale, (t + 1) * scale);
            result[t] = [];
            for (var s = (int)Math.Floor(start); s < Math.Min(from, (int)Math.Ceiling(end)); s++)
            {
                var overlap = Math.Min(end, s + 1) - Math.Max(start, s);
                if (overlap > 1e-9) result[t].Add((s, (float)(overlap / scale)));
            }
        }
        return result;
    }
}
