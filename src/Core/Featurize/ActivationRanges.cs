using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Flowers.Featurize;

/// <summary>
/// The range of values each quantized activation of ResNet18 takes on photos (see <see cref="ResNet18Quantization"/>):
/// per tensor, the mean over a set of preprocessed photos of each photo's smallest and largest value. The ranges the product uses
/// (<see cref="Default"/>) ship with it, measured once on 256 photos of ../shared/datasets/flowers128 by
/// <c>bench/AccuracyExperiments --stage calibrate</c>, both stretched to 224 px and at their own 128 px (photos
/// that need no stretching, as full-size ones at 224 px, are sharper and reach up to ~13% further in early
/// layers); they are properties of the network on natural photos, and fixed so that a photo's features never
/// depend on which other photos were measured.
/// </summary>
public sealed record ActivationRanges(string MeasuredOn, int Photos, IReadOnlyDictionary<string, float[]> Ranges)
{
    const string ResourceName = "Flowers.Featurize.resnet18-activation-ranges.json";
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    static readonly Lazy<byte[]> ShippedBytes = new(() =>
    {
        using var stream = typeof(ActivationRanges).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in Flowers.Core");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    });
    static readonly Lazy<ActivationRanges> Shipped = new(() => Parse(new MemoryStream(ShippedBytes.Value)));
    static readonly Lazy<string> ShippedHash = new(() => Convert.ToHexStringLower(SHA256.HashData(ShippedBytes.Value))[..12]);

    /// <summary>The ranges that ship with the product.</summary>
    public static ActivationRanges Default => Shipped.Value;

    /// <summary>
    /// 12 hex digits of the shipped ranges file's SHA-256: names the features and the quantized model they make.
    /// Taken over the file's bytes, so a process that finds the quantized model cached never parses the ranges
    /// (JSON parsing is a tenth of a second of a cold start).
    /// </summary>
    public static string DefaultHash => ShippedHash.Value;

    public static ActivationRanges Parse(Stream json) =>
        JsonSerializer.Deserialize<ActivationRanges>(json, Json) is { Ranges.Count: > 0 } ranges
        && ranges.Ranges.Values.All(r => r is [var min, var max] && float.IsFinite(min) && float.IsFinite(max) && min <= max)
            ? ranges
            : throw new InvalidDataException("activation ranges: expected {measuredOn, photos, ranges: {tensor: [min, max]}} with finite min <= max");

    public void Save(Stream json) => JsonSerializer.Serialize(json, this, Json);

    /// <summary>
    /// Runs the float network (batch normalisation folded, as the quantized one has it) on <paramref name="inputs"/>
    /// (preprocessed photos, as <see cref="PhotoFeaturizer.Prepare"/> makes them at <paramref name="inputSize"/> px,
    /// one view each) and records each quantized tensor's smallest and largest value.
    /// </summary>
    public static ActivationRanges Measure(IEnumerable<float[]> inputs, int inputSize, string measuredOn, string? modelDirectory = null)
    {
        var model = ResNet18Model.Load(modelDirectory, multiLevel: true, FeaturePrecision.Float32);
        var (calibration, tensors) = ResNet18Quantization.CalibrationModel(Onnx.ModelProto.Parser.ParseFrom(model.OnnxBytes));
        using var options = PhotoFeaturizer.CreateSessionOptions(Environment.ProcessorCount);
        using var session = new InferenceSession(calibration, options);
        using var run = new RunOptions();
        var sums = tensors.ToDictionary(t => t, _ => new double[2]);
        var photos = 0;
        foreach (var input in inputs)
        {
            Add(sums[tensors[0]], input);
            using var tensor = OrtValue.CreateTensorValueFromMemory(input, [1, 3, inputSize, inputSize]);
            using var outputs = session.Run(run, [ResNet18Model.InputName], [tensor], [.. tensors.Skip(1)]);
            for (var i = 0; i < outputs.Count; i++) Add(sums[tensors[i + 1]], outputs[i].GetTensorDataAsSpan<float>());
            photos++;
        }
        if (photos == 0) throw new ArgumentException("no photos to measure ranges on", nameof(inputs));
        return new ActivationRanges(measuredOn, photos, sums.ToDictionary(s => s.Key, s => new[] { (float)(s.Value[0] / photos), (float)(s.Value[1] / photos) }));
    }

    /// <summary>Per tensor, the wider of the two ranges.</summary>
    public ActivationRanges Widen(ActivationRanges other) => new($"{MeasuredOn}; widened by {other.MeasuredOn}", Photos + other.Photos,
        Ranges.ToDictionary(r => r.Key, r => other.Ranges.TryGetValue(r.Key, out var o) ? [Math.Min(r.Value[0], o[0]), Math.Max(r.Value[1], o[1])] : r.Value));

    /// <summary>
    /// Adds one photo's smallest and largest value. The range is the mean of these over the photos, not the extremes
    /// of all: the rare photo that goes beyond is clipped, and every other photo gets finer steps.
    /// </summary>
    static void Add(double[] sums, ReadOnlySpan<float> values)
    {
        var (min, max) = (float.MaxValue, float.MinValue);
        foreach (var v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        sums[0] += min;
        sums[1] += max;
    }
}
