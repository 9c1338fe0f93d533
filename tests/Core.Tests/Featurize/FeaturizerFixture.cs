using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

/// <summary>
/// Featurizers shared by the featurize tests (loading one costs seconds): the product's network (multi-level, mirrored
/// view, 8-bit) and the same network in 32-bit floats, made when first asked for. Both at 224 px, the size the golden
/// features and the ML.NET comparison were pinned at (the product's default is 288).
/// </summary>
public sealed class FeaturizerFixture : IDisposable
{
    public PhotoFeaturizer Featurizer { get; } =
        PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = 224, MultiLevel = true, MirroredView = true });

    readonly Lazy<PhotoFeaturizer> _float32 = new(() =>
        PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = 224, MultiLevel = true, MirroredView = true, Precision = FeaturePrecision.Float32 }));
    public PhotoFeaturizer Float32 => _float32.Value;

    public void Dispose()
    {
        Featurizer.Dispose();
        if (_float32.IsValueCreated) _float32.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class FeaturizerCollection : ICollectionFixture<FeaturizerFixture>
{
    public const string Name = "featurizer";
}
