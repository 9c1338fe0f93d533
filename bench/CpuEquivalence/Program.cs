using System.Runtime.InteropServices;
using Flowers.Featurize;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

// Features of the same network inputs on two CPUs, to check that they do not depend on the instruction set.
//   cpu-equivalence prepare <photos-dir> <per-class> <inputs.bin>     decode + preprocess photos (run natively)
//   cpu-equivalence run <inputs.bin> <out-prefix> [weight-bits...]    float network, then each quantized one
// Run `run` natively and under an emulated CPU (qemu-x86_64 -cpu Haswell: AVX2, no AVX-512, no VNNI), then
// compare.py <a.bin> <b.bin>. Quantized models are written once to model-int{bits}.onnx beside the inputs, natively,
// since the protobuf editing is slow under emulation; inputs are prepared natively so only the network is compared.
ResNet18Model.CacheDirectory = null; // an optimized graph cached for one CPU must not be reused on the other
// The network's input side: the product's default unless CPU_EQUIVALENCE_SIZE says otherwise (prepare and run must agree).
var Size = int.Parse(Environment.GetEnvironmentVariable("CPU_EQUIVALENCE_SIZE") ?? new FeaturizerOptions().InputSize.ToString());
var Block = 3 * Size * Size;
if (args is ["prepare", var photosDir, var perClass, var inputsPath])
{
    using var featurizer = PhotoFeaturizer.Create(new FeaturizerOptions { Precision = FeaturePrecision.Float32, MirroredView = false, InputSize = Size });
    var files = Directory.GetDirectories(photosDir).Order(StringComparer.Ordinal)
        .SelectMany(d => Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).Take(int.Parse(perClass))).ToList();
    using var output = File.Create(inputsPath);
    foreach (var file in files)
        output.Write(MemoryMarshal.AsBytes(featurizer.Prepare(featurizer.Decoder.Decode(File.ReadAllBytes(file))).AsSpan()));
    Console.WriteLine($"{files.Count} photos -> {inputsPath}");
    return 0;
}
if (args is not ["run", var inputsFile, var prefix, ..])
{
    Console.Error.WriteLine("usage: cpu-equivalence prepare <photos-dir> <per-class> <inputs.bin> | run <inputs.bin> <out-prefix> [weight-bits...]");
    return 2;
}
var inputs = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(inputsFile)).ToArray();
var count = inputs.Length / Block;
var floatModel = ResNet18Model.Load(precision: FeaturePrecision.Float32);
var variants = new List<(string Name, byte[] Model)> { ("float", floatModel.OnnxBytes) };
foreach (var bits in args.Skip(3).Select(int.Parse))
{
    var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(inputsFile))!, $"model-int{bits}.onnx");
    if (!File.Exists(path))
        File.WriteAllBytes(path, ResNet18Quantization.Quantize(ModelProto.Parser.ParseFrom(floatModel.OnnxBytes), ActivationRanges.Default, bits).ToByteArray());
    variants.Add(($"int{bits}", File.ReadAllBytes(path)));
}
Console.WriteLine($"8-bit kernels: {CpuKernels.Describe()}");
foreach (var (name, model) in variants)
{
    using var options = PhotoFeaturizer.CreateSessionOptions(1);
    using var session = new InferenceSession(model, options);
    using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
    using var output = File.Create($"{prefix}-{name}.bin");
    var clock = System.Diagnostics.Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputs.AsMemory(i * Block, Block), [1, 3, Size, Size]);
        using var result = session.Run(runOptions, [ResNet18Model.InputName], [tensor], [ResNet18Model.OutputName]);
        output.Write(MemoryMarshal.AsBytes(result[0].GetTensorDataAsSpan<float>()));
    }
    Console.WriteLine($"{name}: {count} photos in {clock.Elapsed.TotalSeconds:0.0} s -> {prefix}-{name}.bin");
}
return 0;
