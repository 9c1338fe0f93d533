using System.Text.RegularExpressions;
using Microsoft.DurableTask;

namespace Flowers.Pipeline;

/// <summary>
/// What a failed run's status shows: a stable code a client can act on and a message for a person. The message of
/// the product's own errors is kept (it was written for the user) with file paths shortened to their last part; any
/// other failure is named by its step only, since its text may show the host's paths and internals. The full detail
/// stays in the host's log and the orchestration's history.
/// </summary>
public static partial class RunFailure
{
    public const string UnusableDataset = "unusable-dataset";
    public const string DatasetUnavailable = "dataset-unavailable";
    public const string UnsafeArchive = "unsafe-archive";
    public const string RefusedSource = "refused-source";
    public const string TrainerUnavailable = "trainer-unavailable";
    public const string Internal = "internal-error";

    public static (string Code, string Message) Describe(TaskFailureDetails failure)
    {
        var step = StepPattern().Match(failure.ErrorMessage) is { Success: true } m ? m.Groups[1].Value : null;
        var innermost = failure;
        while (innermost.InnerFailure is { } inner) innermost = inner;
        var code = innermost.ErrorType switch
        {
            "Flowers.Acquire.UnusableDatasetException" => UnusableDataset,
            "Flowers.Acquire.DatasetUnavailableException" => DatasetUnavailable,
            "Flowers.Acquire.UnsafeArchiveException" => UnsafeArchive,
            "Flowers.Pipeline.RefusedSourceException" => RefusedSource,
            "Flowers.Train.TrainerUnavailableException" => TrainerUnavailable,
            _ => Internal,
        };
        return code == Internal
            ? (code, $"the run failed{(step is null ? "" : $" in its {step} step")} ({innermost.ErrorType.Split('.')[^1]}); the host's log has the details")
            : (code, WithoutPaths(innermost.ErrorMessage));
    }

    /// <summary>Absolute file paths cut to "…/last-part" (URLs are left alone).</summary>
    public static string WithoutPaths(string message) =>
        WindowsPathPattern().Replace(UnixPathPattern().Replace(message, p => "…/" + p.Groups["last"].Value), p => "…\\" + p.Groups["last"].Value);

    [GeneratedRegex(@"Task '([^']+)'")]
    private static partial Regex StepPattern();

    [GeneratedRegex(@"(?<![\w:/.])/(?:[^\s'""/]+/)*(?<last>[^\s'""/]+)/?")]
    private static partial Regex UnixPathPattern();

    [GeneratedRegex(@"\b[A-Za-z]:\\(?:[^\s'""\\]+\\)*(?<last>[^\s'""\\]+)\\?")]
    private static partial Regex WindowsPathPattern();
}

/// <summary>A source the host will not read (a local path where none are allowed, or outside the allowed folders).</summary>
public sealed class RefusedSourceException(string message) : Exception(message);
