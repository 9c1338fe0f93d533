using Azure;
using Flowers.Classify;
using Flowers.Featurize;
using Flowers.Package;
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
            try
            {
                var classifier = await LoadAsync(pointer.Value.Pointer, ct);
                _loaded = new Loaded(pointer.Value.ETag, classifier, _time.GetUtcNow());
                log.LogInformation("Loaded published model {ModelId}", classifier.ModelId);
                return classifier;
            }
            catch (Exception e) when (e is ModelPackageException or InvalidDataException or ArgumentException or RequestFailedException { Status: 404 } && _loaded is not null)
            {
                // A published package that cannot be used must not stop labelling: the previous model keeps labelling,
                // and the pointer is tried again after CheckEvery (it may be fixed, or a newer model published).
                var previous = _loaded!;
                _loaded = previous with { CheckedAt = _time.GetUtcNow() };
                log.LogError("Published model {ModelId} cannot be used ({Error}); labelling goes on with model {Previous}",
                    pointer.Value.Pointer.ModelId, e.Message, previous.Classifier.ModelId);
                return previous.Classifier;
            }
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<PhotoClassifier> LoadAsync(PublishedModelPointer pointer, CancellationToken ct)
    {
        ModelPackage package;
        if (pointer.PackageSha256 is { } sha256)
        {
            try { package = await registry.LoadPackageAsync(pointer.ModelId, sha256, ct); }
            catch (ModelPackageException e) { log.LogError("Model {ModelId} refused: {Error}", pointer.ModelId, e.Message); throw; }
        }
        else
        {
            // Pointers written before they carried a hash: accepted (refusing them would stop labelling at upgrade),
            // with a warning; the next publish writes a hash.
            log.LogWarning("models/current names model {ModelId} without a package hash (published by an earlier version); its package is not verified", pointer.ModelId);
            package = await registry.LoadPackageAsync(pointer.ModelId, ct);
        }
        // What the features mean comes from the manifest; runtime knobs (threads, model folder) and the decode limits
        // are this host's: a package, which anyone who can write models/ can change, must not switch off the
        // decompression-bomb guard.
        var options = package.Manifest.Featurizer with
        {
            ModelDirectory = featurizers.DefaultOptions.ModelDirectory,
            IntraOpThreads = featurizers.DefaultOptions.IntraOpThreads,
            ConcurrentRuns = featurizers.DefaultOptions.ConcurrentRuns,
            Limits = featurizers.DefaultOptions.Limits,
        };
        var featurizer = featurizers.For(options);
        if (featurizer.Id != package.Manifest.FeaturizerId)
            throw new InvalidDataException($"model {package.Manifest.ModelId} needs featurizer {package.Manifest.FeaturizerId}, this app builds {featurizer.Id}");
        return new PhotoClassifier(package, featurizer);
    }
}
