using Flowers.Featurize;
using Flowers.Package;

namespace Flowers.Classify;

/// <summary>What the model says about one photo.</summary>
/// <param name="Label">The most probable class.</param>
/// <param name="Confidence">Its probability.</param>
/// <param name="Probabilities">Every class's probability, in the model's class order.</param>
public sealed record PhotoLabel(string Label, double Confidence, IReadOnlyDictionary<string, double> Probabilities);

/// <summary>
/// Labels new photos with a packaged model: photo bytes -> features (the package's featurizer) ->
/// view-averaged class probabilities. Thread-safe: featurizer and classifier both are.
/// </summary>
public sealed class PhotoClassifier : IDisposable
{
    private readonly PhotoFeaturizer _featurizer;
    private readonly bool _ownsFeaturizer;

    /// <summary>Uses <paramref name="featurizer"/>, which must be the one the package was trained with; the caller keeps it.</summary>
    public PhotoClassifier(ModelPackage package, PhotoFeaturizer featurizer) : this(package, featurizer, ownsFeaturizer: false) { }

    private PhotoClassifier(ModelPackage package, PhotoFeaturizer featurizer, bool ownsFeaturizer)
    {
        if (featurizer.Id != package.Manifest.FeaturizerId)
            throw new ArgumentException(
                $"Model {package.ModelId} was trained on features '{package.Manifest.FeaturizerId}', but the featurizer makes '{featurizer.Id}'.",
                nameof(featurizer));
        if (featurizer.Dimension != package.Classifier.Dimension)
            throw new ArgumentException(
                $"Model {package.ModelId} expects {package.Classifier.Dimension} features per view, the featurizer makes {featurizer.Dimension}.",
                nameof(featurizer));
        Package = package;
        _featurizer = featurizer;
        _ownsFeaturizer = ownsFeaturizer;
    }

    /// <summary>Loads a model.flowers file and creates the featurizer its manifest names.</summary>
    public static PhotoClassifier Open(string packagePath, string? modelDirectory = null)
    {
        var package = ModelPackage.Load(packagePath);
        var options = package.Manifest.Featurizer;
        if (modelDirectory is not null) options = options with { ModelDirectory = modelDirectory };
        var featurizer = PhotoFeaturizer.Create(options);
        try
        {
            return new PhotoClassifier(package, featurizer, ownsFeaturizer: true);
        }
        catch
        {
            featurizer.Dispose();
            throw;
        }
    }

    public ModelPackage Package { get; }
    public string ModelId => Package.ModelId;
    public IReadOnlyList<string> Classes => Package.Classifier.Classes;

    /// <summary>Labels an encoded photo (JPEG, PNG, ...); throws <see cref="PhotoRejectedException"/> for one it cannot read.</summary>
    public PhotoLabel Classify(ReadOnlySpan<byte> photo) => Classify(_featurizer.Featurize(photo));

    /// <summary>
    /// Labels many photos in one pass of the featurizer (<see cref="PhotoFeaturizer.FeaturizeAll"/>: one photo decodes
    /// while another is in the network), in input order; a photo it cannot read gets its reason instead of a label.
    /// </summary>
    public IEnumerable<(string Key, PhotoLabel? Label, string? Error)> ClassifyAll(IEnumerable<PhotoBytes> photos, CancellationToken ct = default) =>
        _featurizer.FeaturizeAll(photos, ct).Select(o => (o.Key, o.Features is { } features ? Classify(features) : null, o.Error));

    /// <summary>Labels a photo whose features are already known.</summary>
    public PhotoLabel Classify(PhotoFeatures features)
    {
        var probabilities = Package.Classifier.Predict(features.Views);
        var best = 0;
        for (var c = 1; c < probabilities.Length; c++)
            if (probabilities[c] > probabilities[best]) best = c;
        var byClass = new Dictionary<string, double>(probabilities.Length);
        for (var c = 0; c < probabilities.Length; c++) byClass[Classes[c]] = probabilities[c];
        return new PhotoLabel(Classes[best], probabilities[best], byClass);
    }

    public void Dispose()
    {
        if (_ownsFeaturizer) _featurizer.Dispose();
    }
}
