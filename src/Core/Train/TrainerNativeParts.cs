using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.Trainers.LightGbm;

namespace Flowers.Train;

/// <summary>
/// LightGBM trains in native code: lib_lightgbm, which on Linux needs GNU OpenMP (libgomp.so.1) from the machine.
/// A host without it is told so when a run asks for the trainer, not after the run has featurized every photo.
/// </summary>
public static class TrainerNativeParts
{
    private static readonly Lazy<string?> LightGbmMissing = new(() => MissingLibrary("lib_lightgbm", typeof(LightGbmMulticlassTrainer).Assembly, TrainerOptions.LightGbm));

    /// <summary>Why <paramref name="trainer"/> cannot train on this host, or null when it can.</summary>
    public static string? Missing(string trainer) => trainer == TrainerOptions.LightGbm ? LightGbmMissing.Value : null;

    internal static string? MissingLibrary(string library, Assembly user, string trainer)
    {
        if (NativeLibrary.TryLoad(library, user, null, out _)) return null;
        return $"trainer '{trainer}' cannot run on this host: its native library {library} does not load"
            + (OperatingSystem.IsLinux() ? " (it needs GNU OpenMP, libgomp.so.1: install the libgomp1 package)" : "")
            + $"; use trainer {string.Join(" or ", TrainerOptions.Trainers.Where(t => t != trainer).Select(t => $"'{t}'"))}";
    }
}

/// <summary>A trainer whose native part this host lacks (<see cref="TrainerNativeParts"/>): not retried.</summary>
public sealed class TrainerUnavailableException(string message) : Exception(message);
