using Flowers.Featurize;
using Flowers.Testing;
using Onnx;

namespace Flowers.Tests.Featurize;

/// <summary>The 8-bit network (<see cref="ResNet18Quantization"/>): built from the shipped ranges, run on integer kernels.</summary>
[Collection(FeaturizerCollection.Name)]
public class QuantizationTests(FeaturizerFixture fixture)
{
    [Fact]
    public void The_shipped_ranges_cover_every_quantized_tensor_and_hold_zero()
    {
        var folded = ResNet18Quantization.FoldBatchNorm(ModelProto.Parser.ParseFrom(ResNet18Model.Load(precision: FeaturePrecision.Float32).OnnxBytes));
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType == "BatchNormalization");
        var tensors = ResNet18Quantization.QuantizedTensors(folded.Graph);
        Assert.Equal(ResNet18Model.InputName, tensors[0]);
        Assert.All(tensors, t => Assert.True(ActivationRanges.Default.Ranges.ContainsKey(t), $"no range for {t}"));
        // Photos minus the mean image go both ways; what leaves a ReLU never goes below 0.
        Assert.True(ActivationRanges.Default.Ranges[ResNet18Model.InputName] is [< -50, > 50]);
        Assert.All(folded.Graph.Node.Where(n => n.OpType == "Relu" && tensors.Contains(n.Output[0])),
            n => Assert.Equal(0f, ActivationRanges.Default.Ranges[n.Output[0]][0]));
    }

    [SkippableFact]
    public void Onnx_runtime_runs_the_convolutions_on_integer_kernels()
    {
        // The speed comes from ORT fusing DequantizeLinear -> Conv -> QuantizeLinear into QLinearConv; a graph it could
        // not fuse would still give right answers, only slowly. The featurizer saves the graph ORT actually runs.
        var model = ResNet18Model.Load(precision: FeaturePrecision.Int8);
        Assert.Same(model, ResNet18Model.Load(fixture.Featurizer.Options.ModelDirectory, fixture.Featurizer.Options.MultiLevel, fixture.Featurizer.Options.Precision));
        var path = PhotoFeaturizer.OptimizedGraphPath(model);
        Skip.If(path is null || !File.Exists(path), "the optimized graph is not cached on disk here (ResNet18Model.CacheDirectory)");
        var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        var quantizedConvs = ops.GetValueOrDefault("QLinearConv") + ops.GetValueOrDefault("NhwcQLinearConv");
        Assert.True(quantizedConvs >= 20, $"expected ResNet18's convolutions as QLinearConv, found: {string.Join(", ", ops.Select(o => $"{o.Key} {o.Value}"))}");
        Assert.False(ops.ContainsKey("Conv"), "a convolution was left in floats");
    }

    [Fact]
    public void Measuring_ranges_covers_every_quantized_tensor_and_widening_keeps_the_wider()
    {
        var inputs = Enumerable.Range(0, 3).Select(v =>
        {
            using var scene = SyntheticPhotos.Scene(160, 120, v);
            return fixture.Float32.Prepare(fixture.Float32.Decoder.Decode(SyntheticPhotos.Encode(scene, SkiaSharp.SKEncodedImageFormat.Jpeg, 92)));
        }).ToList();
        var measured = ActivationRanges.Measure(inputs, 224, "3 drawn scenes");
        Assert.Equal(3, measured.Photos);
        Assert.Equal(ActivationRanges.Default.Ranges.Keys.Order(), measured.Ranges.Keys.Order());
        Assert.All(measured.Ranges.Values, r => Assert.True(r[0] <= r[1]));
        Assert.Equal(0f, measured.Ranges["ReLU253_Output_0"][0]);
        Assert.True(measured.Ranges[ResNet18Model.InputName] is [< 0, > 0], "photos minus the mean image go both ways");

        var doubled = measured with { Ranges = measured.Ranges.ToDictionary(r => r.Key, r => new[] { 2 * r.Value[0], 2 * r.Value[1] }) };
        var widened = measured.Widen(doubled);
        Assert.All(widened.Ranges, r => Assert.Equal(doubled.Ranges[r.Key], r.Value));
        using var saved = new MemoryStream();
        widened.Save(saved);
        saved.Position = 0;
        Assert.Equal(widened.Ranges[ResNet18Model.InputName], ActivationRanges.Parse(saved).Ranges[ResNet18Model.InputName]);
    }

    [Fact]
    public void Ranges_that_miss_a_tensor_are_refused_with_its_name()
    {
        var edited = ModelProto.Parser.ParseFrom(ResNet18Model.Load(precision: FeaturePrecision.Float32).OnnxBytes);
        var missing = ActivationRanges.Default.Ranges.Keys.Last();
        var partial = ActivationRanges.Default with { Ranges = ActivationRanges.Default.Ranges.Where(r => r.Key != missing).ToDictionary() };
        var e = Assert.Throws<InvalidDataException>(() => ResNet18Quantization.Quantize(edited, partial));
        Assert.Contains(missing, e.Message);
    }

    [Theory]
    [InlineData("""{"measuredOn":"x","photos":1,"ranges":{"a":[2,1]}}""")]
    [InlineData("""{"measuredOn":"x","photos":1,"ranges":{"a":[0]}}""")]
    [InlineData("""{"measuredOn":"x","photos":1,"ranges":{}}""")]
    public void Malformed_ranges_are_refused(string json)
    {
        var e = Assert.Throws<InvalidDataException>(() => ActivationRanges.Parse(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))));
        Assert.Contains("min <= max", e.Message);
    }

    [Theory]
    [InlineData(-129.5f, 159.6f)]
    [InlineData(0f, 21.9f)]
    [InlineData(-32.1f, 28.3f)]
    [InlineData(3f, 7f)]   // widened to hold 0
    public void Zero_is_exact_in_every_activation_range(float min, float max)
    {
        var (scale, zeroPoint) = ResNet18Quantization.UnsignedAffine(min, max);
        Assert.True(scale > 0);
        Assert.InRange(Math.Min(0, min), (0 - zeroPoint) * scale - scale / 2, 0);
        Assert.InRange(Math.Max(0, max), 0, (255 - zeroPoint) * scale + scale / 2);
    }
}
