using System.Text.Json.Serialization;

namespace Flowers.Featurize;

/// <summary>
/// How photos become features. The fields that change the features (<see cref="InputSize"/>,
/// <see cref="MultiLevel"/>, <see cref="MirroredView"/>, <see cref="PerPixelMean"/>, <see cref="Precision"/>) make up
/// the featurizer's Id; the rest only tune speed.
/// </summary>
public sealed record FeaturizerOptions
{
    /// <summary>
    /// Side of the square the photo is stretched to before it enters the network. 288 rather than the 224 the
    /// network was trained at: on full-resolution photos (oxford17) it classified better, within the budget of
    /// 1.6x the earlier CPU time a photo (README.md). A training run picks a smaller one for small photos
    /// (<see cref="InputSizeChoice"/>); 288 is the largest it picks.
    /// </summary>
    public int InputSize { get; init; } = 288;

    /// <summary>
    /// Globally pooled outputs of all four residual stages (960 values) instead of the last (512): free at run
    /// time, +0.8 to +1.1 points of test accuracy on flowers128 (5 splits).
    /// </summary>
    public bool MultiLevel { get; init; } = true;

    /// <summary>
    /// Also featurize the photo mirrored left to right, as Views[1], for training augmentation and test-time
    /// averaging: +0.9 points on flowers128 (5 splits), for twice the inference.
    /// </summary>
    public bool MirroredView { get; init; } = true;

    /// <summary>Subtract the 224x224 ImageNet mean image (resampled to the input size) rather than three channel means.</summary>
    public bool PerPixelMean { get; init; } = true;

    /// <summary>
    /// The network's arithmetic. Int8 (the default) runs the network quantized (<see cref="ResNet18Quantization"/>):
    /// several times the photos a second of Float32, the same features on every CPU, and the same test accuracy
    /// within noise (README.md). Float32 is the network as published.
    /// </summary>
    public FeaturePrecision Precision { get; init; } = FeaturePrecision.Int8;

    /// <summary>ONNX Runtime threads inside one inference (see <see cref="ConcurrentRuns"/>).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>
    /// Inferences that run at once, each on its own ONNX Runtime session of <see cref="IntraOpThreads"/> threads.
    /// 2 x 1 is the fastest for many photos on 2 cores; for the lowest latency of a single photo use 1 x 2.
    /// </summary>
    public int ConcurrentRuns { get; init; } = 2;

    /// <summary>Decompression-bomb guard.</summary>
    public PhotoLimits Limits { get; init; } = new();

    /// <summary>Folder holding ResNet18Onnx/ and ResNetPrepOnnx/; null = DnnImageModels/ beside the app.</summary>
    [JsonIgnore]
    public string? ModelDirectory { get; init; }

    /// <summary>E.g. "resnet18-ml960-224-flip-int8": names the features these options produce.</summary>
    [JsonIgnore]
    public string Id =>
        $"resnet18-{(MultiLevel ? "ml960" : "512")}-{InputSize}{(MirroredView ? "-flip" : "")}{(PerPixelMean ? "" : "-chmean")}"
        + (Precision == FeaturePrecision.Int8 ? $"-int8w{ResNet18Quantization.WeightBits}-{ActivationRanges.DefaultHash[..6]}" : "");

    public int ViewCount => MirroredView ? 2 : 1;

    /// <summary>Lengths of the pooled stages a view is made of, earliest first (ResNet18's residual stages).</summary>
    [JsonIgnore]
    public IReadOnlyList<int> StageChannels => MultiLevel ? [64, 128, 256, 512] : [512];

    internal void Validate()
    {
        if (InputSize is < 32 or > 1024) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "between 32 and 1024");
        if (IntraOpThreads < 1) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads));
        if (ConcurrentRuns < 1) throw new ArgumentOutOfRangeException(nameof(ConcurrentRuns));
        if (!Enum.IsDefined(Precision)) throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Float32 or Int8");
    }
}

/// <summary>The arithmetic the network runs in.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeaturePrecision>))]
public enum FeaturePrecision
{
    /// <summary>The network as published: 32-bit floats.</summary>
    Float32,
    /// <summary>Weights and activations in 8 bits (ONNX QDQ form, run on integer kernels).</summary>
    Int8,
}
