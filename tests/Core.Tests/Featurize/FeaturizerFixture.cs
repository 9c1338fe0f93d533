using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

/// <summary>One featurizer (224 px, multi-level, mirrored view) shared by the featurize tests: loading it costs seconds.</summary>
public sealed class FeaturizerFixture : IDisposable
{
    public PhotoFeaturizer Featurizer { get; } =
        PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = 224, MultiLevel = true, MirroredView = true });

    public void Dispose() => Featurizer.Dispose();
}

[CollectionDefinition(Name)]
public sealed class FeaturizerCollection : ICollectionFixture<FeaturizerFixture>
{
    public const string Name = "featurizer";
}
