using Azure;
using Flowers.Classify;
using Flowers.Pipeline;
using Flowers.Storage;
using Microsoft.Extensions.Logging;

namespace Flowers.Labelling;

/// <summary>
/// The published model, loaded once and kept in memory; models/current's ETag is checked at most every
/// <see cref="CheckEvery"/> (one HEAD request), and the model is reloaded when it changed.
/// </summary>
public sealed class PublishedModel(ModelRegistry registry, FeaturizerCatalog featurizers, ILogger<PublishedModel> log,
    TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private (ETag ETag, PhotoClassifier Classifier)? _loaded;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;

    public TimeSpan CheckEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The classifier of the published model, or null when none is published.</summary>
    /// <param name="recheck">Check models/current now, whenever it was last checked.</param>
    public async Task<PhotoClassifier?> GetAsync(bool recheck = false, CancellationToken ct = default)
    {
        var loaded = _loaded;
        if (!recheck && loaded is not null && _time.GetUtcNow() - _checkedAt < CheckEvery) return loaded.Value.Classifier;

        await _loading.WaitAsync(ct);
        try
        {
            var etag = await registry.GetCurrentETagAsync(ct);
            _checkedAt = _time.GetUtcNow();
            if (etag is null) return null;
            if (_loaded is { } current && current.ETag == etag) return current.Classifier;

            var pointer = await registry.GetCurrentAsync(ct);
            if (pointer is null) return null;
            var package = await registry.LoadPackageAsync(pointer.Value.Pointer.ModelId, ct);
            // Runtime knobs (threads, model folder) are this machine's; what the features mean comes from the manifest.
            var options = package.Manifest.Featurizer with
            {
                ModelDirectory = featurizers.DefaultOptions.ModelDirectory,
                IntraOpThreads = featurizers.DefaultOptions.IntraOpThreads,
                ConcurrentRuns = featurizers.DefaultOptions.ConcurrentRuns,
            };
            var featurizer = featurizers.For(options);
            if (featurizer.Id != package.Manifest.FeaturizerId)
                throw new InvalidDataException($"model {package.Manifest.ModelId} needs featurizer {package.Manifest.FeaturizerId}, this app builds {featurizer.Id}");
            _loaded = (pointer.Value.ETag, new PhotoClassifier(package, featurizer));
            log.LogInformation("Loaded published model {ModelId}", package.Manifest.ModelId);
            return _loaded.Value.Classifier;
        }
        finally
        {
            _loading.Release();
        }
    }
}
