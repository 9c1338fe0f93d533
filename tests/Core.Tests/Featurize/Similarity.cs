namespace Flowers.Tests.Featurize;

/// <summary>How alike two feature vectors or two pixel buffers are.</summary>
static class Similarity
{
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>Mean absolute difference of two RGBA buffers, per channel value.</summary>
    public static double MeanAbsoluteDifference(byte[] a, byte[] b)
    {
        long sum = 0;
        for (var i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return (double)sum / a.Length;
    }}
