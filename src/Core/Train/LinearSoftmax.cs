namespace Flowers.Train;

/// <summary>
/// A linear multiclass model evaluated by hand: softmax(W x + b). This is exactly what ML.NET's
/// maximum-entropy predictors compute, minus the PredictionEngine, which is not thread-safe and costs
/// an ML.NET context to load. Immutable, so any number of threads may score at once.
/// </summary>
internal sealed class LinearSoftmax : IViewScorer
{
    public const string KindName = "linear-softmax";

    private readonly float[] _weights; // row-major: class c owns [c * Dimension, (c + 1) * Dimension)
    private readonly float[] _biases;

    public LinearSoftmax(float[] weights, float[] biases, int dimension)
    {
        if (dimension < 1 || biases.Length < 1 || weights.Length != biases.Length * dimension)
            throw new ArgumentException($"A linear model needs {biases.Length} x {dimension} weights, got {weights.Length}.");
        _weights = weights;
        _biases = biases;
        Dimension = dimension;
    }

    public string Kind => KindName;
    public int Dimension { get; }
    public int ClassCount => _biases.Length;
    public ReadOnlySpan<float> Weights => _weights;
    public ReadOnlySpan<float> Biases => _biases;

    public void AddProbabilities(float[] view, Span<double> sum)
    {
        Span<double> logits = ClassCount <= 256 ? stackalloc double[ClassCount] : new double[ClassCount];
        var max = double.NegativeInfinity;
        for (var c = 0; c < ClassCount; c++)
        {
            var row = _weights.AsSpan(c * Dimension, Dimension);
            double z = _biases[c];
            for (var j = 0; j < row.Length; j++) z += row[j] * view[j];
            logits[c] = z;
            max = Math.Max(max, z);
        }
        double total = 0;
        for (var c = 0; c < ClassCount; c++) total += logits[c] = Math.Exp(logits[c] - max);
        for (var c = 0; c < ClassCount; c++) sum[c] += logits[c] / total;
    }

    public void Write(BinaryWriter writer)
    {
        foreach (var w in _weights) writer.Write(w);
        foreach (var b in _biases) writer.Write(b);
    }

    public static LinearSoftmax Read(BinaryReader reader, int classCount, int dimension)
    {
        var weights = new float[checked(classCount * dimension)];
        for (var i = 0; i < weights.Length; i++) weights[i] = reader.ReadSingle();
        var biases = new float[classCount];
        for (var i = 0; i < biases.Length; i++) biases[i] = reader.ReadSingle();
        if (weights.Any(w => !float.IsFinite(w)) || biases.Any(b => !float.IsFinite(b)))
            throw new InvalidDataException("The classifier's weights contain NaN or infinity.");
        return new LinearSoftmax(weights, biases, dimension);
    }

    /// <summary>
    /// Folds a per-feature standardisation (x - mean) / scale into the weights, so the saved model
    /// takes raw features: w' = w / scale, b' = b - sum(w * mean / scale).
    /// </summary>
    public LinearSoftmax FoldStandardization(float[] mean, float[] scale)
    {
        var weights = new float[_weights.Length];
        var biases = new float[ClassCount];
        for (var c = 0; c < ClassCount; c++)
        {
            double shift = 0;
            for (var j = 0; j < Dimension; j++)
            {
                var w = _weights[c * Dimension + j] / scale[j];
                weights[c * Dimension + j] = w;
                shift += (double)w * mean[j];
            }
            biases[c] = (float)(_biases[c] - shift);
        }
        return new LinearSoftmax(weights, biases, Dimension);
    }
}
