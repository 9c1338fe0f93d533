namespace Flowers.Acquire;

public enum AcquireStage { Download, Extract, Scan }

/// <summary>How far acquiring has come.</summary>
/// <param name="Stage">What is happening.</param>
/// <param name="Done">Bytes downloaded, entries extracted, or files scanned.</param>
/// <param name="Total">The same unit's total when known (a download without Content-Length has none).</param>
/// <param name="Item">What is being worked on: the URL, archive or folder.</param>
public sealed record AcquireProgress(AcquireStage Stage, long Done, long? Total, string Item)
{
    public double? Fraction => Total is > 0 ? Math.Clamp((double)Done / Total.Value, 0, 1) : null;
}
