using System.Runtime.InteropServices;
using System.Text.Json;
using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

/// <summary>
/// Every machine's features against features computed once and committed (golden-features.json): photos drawn here
/// with integer arithmetic alone (the same pixels on any CPU) and, when present, the first flowers128 photo of each
/// class. A model trained on one instance labels on another only if both compute these features; this is the test
/// that catches the next CPU-dependence (the 8-bit network with full 8-bit weights fails it on AVX2-only CPUs).
/// Regenerate with FLOWERS_WRITE_GOLDEN=1 after a change that is meant to change features (the featurizer id changes too).
/// </summary>
[Collection(FeaturizerCollection.Name)]
public class GoldenFeaturesTests(FeaturizerFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The 8-bit network sums integers exactly on every CPU, so its features match to the last bit where the CPU
    /// is x86-64 (AVX2 and AVX-512 VNNI seen); five nines leave room only for the float pooling at the end.
    /// </summary>
    const double Int8Least = 0.99999;

    /// <summary>Float kernels differ per instruction set in their order of summing (seen: max |d| 6e-6).</summary>
    const double Float32Least = 0.9999;

    static string GoldenPath => Path.Combine(AppContext.BaseDirectory, "Featurize", "golden-features.json");

    sealed record GoldenPhoto(string Name, string Int8, string Float32);
    sealed record GoldenFile(string Int8Featurizer, string Float32Featurizer, string Cpu, List<GoldenPhoto> Photos);

    [SkippableFact]
    public void Features_match_the_committed_golden_features()
    {
        var photos = Photos();
        if (Environment.GetEnvironmentVariable("FLOWERS_WRITE_GOLDEN") == "1")
        {
            Write(photos);
            return;
        }
        var golden = JsonSerializer.Deserialize<GoldenFile>(File.ReadAllText(GoldenPath), JsonSerializerOptions.Web)!;
        Assert.True(golden.Int8Featurizer == fixture.Featurizer.Id && golden.Float32Featurizer == fixture.Float32.Id,
            $"golden features are of {golden.Int8Featurizer} / {golden.Float32Featurizer}, the featurizers are {fixture.Featurizer.Id} / "
            + $"{fixture.Float32.Id}: if features are meant to change, regenerate with FLOWERS_WRITE_GOLDEN=1");
        output.WriteLine($"golden features computed on: {golden.Cpu}; this CPU: {CpuKernels.Describe()}");
        var compared = 0;
        foreach (var expected in golden.Photos)
        {
            if (!photos.TryGetValue(expected.Name, out var pixels))
            {
                output.WriteLine($"{expected.Name}: not here, not compared ({Flowers128.Missing})");
                continue;
            }
            Compare(expected.Name, "int8", fixture.Featurizer, pixels, expected.Int8, Int8Least);
            Compare(expected.Name, "float32", fixture.Float32, pixels, expected.Float32, Float32Least);
            compared++;
        }
        Assert.True(compared >= 4, $"only {compared} golden photos compared");
    }

    void Compare(string name, string precision, PhotoFeaturizer featurizer, PhotoPixels pixels, string expectedBase64, double least)
    {
        var expected = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(expectedBase64));
        var actual = featurizer.Featurize(pixels).Views[0];
        Assert.Equal(expected.Length, actual.Length);
        var identical = 0;
        var maxDifference = 0f;
        for (var i = 0; i < actual.Length; i++)
        {
            if (actual[i] == expected[i]) identical++;
            maxDifference = Math.Max(maxDifference, Math.Abs(actual[i] - expected[i]));
        }
        var cosine = Similarity.Cosine(actual, expected);
        output.WriteLine($"{name} {precision}: cosine {cosine:0.0000000}, {identical}/{actual.Length} values identical, max |d| {maxDifference:g3}");
        Assert.True(cosine >= least, $"{name}: {precision} features at cosine {cosine:0.000000} to the golden ones (at least {least} expected): "
            + $"this CPU ({CpuKernels.Describe()}) computes other features than the one they were made on");
    }

    /// <summary>The photos by name: drawn ones always, flowers128 ones when the data set is here.</summary>
    Dictionary<string, PhotoPixels> Photos()
    {
        var size = fixture.Featurizer.Options.InputSize;
        var photos = Enumerable.Range(0, 4).ToDictionary(k => $"drawn {k}", k => Drawn(size, k));
        foreach (var (_, path) in Flowers128.Photos(perClass: 1))
            photos[$"flowers128/{Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)}"] = fixture.Featurizer.Decoder.Decode(File.ReadAllBytes(path));
        return photos;
    }

    /// <summary>
    /// A flower-like scene from integers alone (rings of petals over a striped ground and a little noise), so that
    /// the pixels cannot depend on a CPU's floating point or a codec's SIMD path.
    /// </summary>
    static PhotoPixels Drawn(int size, int k)
    {
        var rgba = new byte[4 * size * size];
        var noise = (uint)(2166136261 ^ k);
        var (cx, cy) = (size / 2 + 9 * k - 14, size / 2 - 7 * k + 10);
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                noise = noise * 1664525 + 1013904223;
                var (dx, dy) = (x - cx, y - cy);
                var r2 = dx * dx + dy * dy;
                var petal = (Math.Abs(dx) * (3 + k) + Math.Abs(dy) * (5 - k % 3)) % 61 < 30;
                var i = 4 * (y * size + x);
                (byte r, byte g, byte b) = r2 < 90 * 90 && petal
                    ? ((byte)(200 + k * 13 % 55), (byte)(40 + r2 % 90), (byte)(60 + 40 * k))
                    : r2 < 20 * 20 ? ((byte)230, (byte)(190 + k * 10), (byte)30)
                    : ((byte)(30 + (x + 2 * y) % 40), (byte)(90 + (y * (k + 1)) % 80), (byte)(25 + x % 30));
                var n = (int)(noise >> 28) - 8;
                rgba[i] = (byte)Math.Clamp(r + n, 0, 255);
                rgba[i + 1] = (byte)Math.Clamp(g + n, 0, 255);
                rgba[i + 2] = (byte)Math.Clamp(b + n, 0, 255);
                rgba[i + 3] = 255;
            }
        return new PhotoPixels(size, rgba, size, size, "drawn");
    }

    void Write(Dictionary<string, PhotoPixels> photos)
    {
        Skip.If(Flowers128.Directory is null, $"golden features are written with the flowers128 photos too: {Flowers128.Missing}");
        string Features(PhotoFeaturizer f, PhotoPixels p) => Convert.ToBase64String(MemoryMarshal.AsBytes(f.Featurize(p).Views[0].AsSpan()));
        var golden = new GoldenFile(fixture.Featurizer.Id, fixture.Float32.Id, CpuKernels.Describe(),
            [.. photos.Select(p => new GoldenPhoto(p.Key, Features(fixture.Featurizer, p.Value), Features(fixture.Float32, p.Value)))]);
        var source = Path.Combine(Flowers.Testing.TestRepository.Root, "tests", "Core.Tests", "Featurize", "golden-features.json");
        File.WriteAllText(source, JsonSerializer.Serialize(golden, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }) + "\n");
        output.WriteLine($"wrote {photos.Count} photos' features to {source}");
    }
}
