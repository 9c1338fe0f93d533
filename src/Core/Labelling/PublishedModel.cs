using Azure;
using Flowers.Classify;
using Flowers.Featurize;
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
    private sealed record Loaded(ETag ETag, PhotoClassifier Classifier, DateTimeOffset CheckedAt);
    private volatile Loaded? _loaded; // replaced whole, so readers outside the lock never see half an update

    public TimeSpan CheckEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The classifier of the published model, or null when none is published.</summary>
    /// <param name="recheck">Check models/current now, whenever it was last checked.</param>
    public async Task<PhotoClassifier?> GetAsync(bool recheck = false, CancellationToken ct = default)
    {
        var loaded = _loaded;
        if (!recheck && loaded is not null && _time.GetUtcNow() - loaded.CheckedAt < CheckEvery) return loaded.Classifier;

        await _loading.WaitAsync(ct);
        try
        {
            loaded = _loaded; // another caller may have just checked
            if (!recheck && loaded is not null && _time.GetUtcNow() - loaded.CheckedAt < CheckEvery) return loaded.Classifier;
            if (_loaded is { } current)
            {
                // A HEAD request tells whether the loaded model is still the published one. Before the first load
                // there is nothing to compare: the pointer's own read below brings its ETag (one request less on
                // the way to a host's first label).
                var etag = await registry.GetCurrentETagAsync(ct);
                if (etag is null) return null;
                if (current.ETag == etag)
                {
                    _loaded = current with { CheckedAt = _time.GetUtcNow() };
                    return current.Classifier;
                }
            }

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
            var classifier = new PhotoClassifier(package, featurizer);
            _loaded = new Loaded(pointer.Value.ETag, classifier, _time.GetUtcNow());
            log.LogInformation("Loaded published model {ModelId}", package.Manifest.ModelId);
            return classifier;
        }
        finally
        {
            _loading.Release();
        }
    }
}
