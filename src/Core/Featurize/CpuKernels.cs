using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Flowers.Featurize;

/// <summary>
/// Which 8-bit kernels ONNX Runtime (MLAS) runs on this CPU, told the way MLAS chooses them: by the instruction set
/// extensions the CPU reports. Said beside every speed figure, since the same network runs at different speeds on
/// each; its features are the same on all of them (<see cref="ResNet18Quantization.WeightBits"/>).
/// </summary>
public static class CpuKernels
{
    /// <summary>E.g. "x86-64 AVX-512 VNNI (vpdpbusd)", "x86-64 AVX2 (vpmaddubsw)", "arm64 dot product (sdot/udot)".</summary>
    public static string Describe() => Described.Value;

    static readonly Lazy<string> Described = new(() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 when HasFlag("avx512_vnni") && Avx512BW.IsSupported => "x86-64 AVX-512 VNNI (vpdpbusd)",
        Architecture.X64 when AvxVnni.IsSupported => "x86-64 AVX-VNNI (vpdpbusd, 256-bit)",
        Architecture.X64 when Avx512BW.IsSupported => "x86-64 AVX-512 BW, no VNNI (vpmaddubsw)",
        Architecture.X64 when Avx2.IsSupported => "x86-64 AVX2, no VNNI (vpmaddubsw)",
        Architecture.X64 => "x86-64 SSE only (vpmaddwd)",
        Architecture.Arm64 when HasFlag("asimddp") => "arm64 dot product (sdot/udot)",
        var other => $"{other.ToString().ToLowerInvariant()} (generic kernels)",
    });

    /// <summary>The CPU's model name (/proc/cpuinfo on Linux, PROCESSOR_IDENTIFIER on Windows), or "".</summary>
    public static string Model() =>
        Value("model name") ?? Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "";

    static bool HasFlag(string flag) =>
        (Value("flags") ?? Value("Features"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(flag) == true;

    /// <summary>The value of the first "key : value" line of /proc/cpuinfo (Linux); null where there is none.</summary>
    static string? Value(string key) => CpuInfo.Value.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2) is [_, var value]
        ? value.Trim() : null;

    static readonly Lazy<string[]> CpuInfo = new(() =>
    {
        try { return File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : []; }
        catch (IOException) { return []; }
    });
}
