namespace Flowers.Featurize;

/// <summary>
/// One PhotoFeaturizer per set of options per process (each holds an ONNX session: costly to create,
/// thread-safe to share). The pipeline featurizes with <see cref="Default"/>; the labeller asks for the
/// options a model was trained with, which are usually the same.
/// </summary>
public sealed class FeaturizerCatalog(FeaturizerOptions defaults) : IDisposable
{
    private readonly Dictionary<FeaturizerOptions, Lazy<PhotoFeaturizer>> _featurizers = [];

    public FeaturizerOptions DefaultOptions { get; } = defaults;

    public PhotoFeaturizer Default => For(DefaultOptions);

    /// <summary>The default options at a run's input size (0: the default's own).</summary>
    public FeaturizerOptions OptionsFor(int inputSize) => inputSize > 0 ? DefaultOptions with { InputSize = inputSize } : DefaultOptions;

    public PhotoFeaturizer For(FeaturizerOptions options)
    {
        Lazy<PhotoFeaturizer> featurizer;
        lock (_featurizers)
        {
            if (!_featurizers.TryGetValue(options, out featurizer!))
                _featurizers[options] = featurizer = new Lazy<PhotoFeaturizer>(() => PhotoFeaturizer.Create(options));
        }
        return featurizer.Value;
    }

    public void Dispose()
    {
        lock (_featurizers)
        {
            foreach (var featurizer in _featurizers.Values.Where(f => f.IsValueCreated)) featurizer.Value.Dispose();
            _featurizers.Clear();
        }
    }
}
