using Flowers.Train;

namespace Flowers.Tests.Train;

public class FeatureNormalizationTests
{
    [Fact]
    public void Each_stage_becomes_a_unit_vector_of_signed_square_roots()
    {
        var normalization = new FeatureNormalization(FeatureNormalization.SqrtStageL2, [2, 3]);
        var result = normalization.Apply([9f, -16f, 4f, 0f, 4f]);

        // sqrt: 3, -4 | 2, 0, 2; then each stage over its length (5 and sqrt 8).
        Assert.Equal([0.6f, -0.8f, 2 / MathF.Sqrt(8), 0f, 2 / MathF.Sqrt(8)], result, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void An_all_zero_stage_stays_zero_and_none_changes_nothing()
    {
        var normalization = new FeatureNormalization(FeatureNormalization.SqrtStageL2, [2, 2]);
        Assert.Equal([0f, 0f, 1f, 0f], normalization.Apply([0f, 0f, 5f, 0f]));

        float[] view = [1f, 2f, 3f];
        Assert.Same(view, new FeatureNormalization(FeatureNormalization.None, [3]).Apply(view));
    }

    [Fact]
    public void Wrong_sizes_and_kinds_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new FeatureNormalization(FeatureNormalization.SqrtStageL2, [2, 2]).Apply([1f, 2f, 3f]));
        Assert.Contains("3 values", e.Message);
        e = Assert.Throws<ArgumentException>(() => new FeatureNormalization("whiten", [2]));
        Assert.Contains("whiten", e.Message);
    }
}

/// <summary>Compares floats to within an absolute tolerance.</summary>
internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(float value) => 0;
}
