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

    /// <summary>A flag of /proc/cpuinfo (Linux); where there is none, false.</summary>
    static bool HasFlag(string flag)
    {
        try
        {
            return File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) || l.StartsWith("Features", StringComparison.Ordinal)) is { } line
                && line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(flag);
        }
        catch (IOException) { return false; }
    }
}
