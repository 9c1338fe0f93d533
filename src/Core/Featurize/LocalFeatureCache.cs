using System.Diagnostics.CodeAnalysis;

namespace Flowers.Featurize;

/// <summary>
/// The bottleneck cache on disk: features by photo content hash, so that the same photo is never featurized
/// twice by the same featurizer. Lives in {directory}/{featurizerId}/ as <see cref="FeatureShard"/> files;
/// <see cref="Put"/> collects in memory and <see cref="Flush"/> writes them as one new shard (temp file +
/// rename, so a reader never sees half a file). Unreadable shard files are ignored. Thread-safe.
/// </summary>
public sealed class LocalFeatureCache : IDisposable
{
    /// <summary>Above this many shard files a flush merges them into one.</summary>
    const int MergeAbove = 16;

    readonly object _gate = new();
    Dictionary<string, PhotoFeatures>? _items;
    readonly Dictionary<string, PhotoFeatures> _unsaved = [];

    public string FeaturizerId { get; }
    /// <summary>The folder of this featurizer's shards.</summary>
    public string Directory { get; }

    public LocalFeatureCache(string directory, string featurizerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(featurizerId);
        if (featurizerId.IndexOfAny([.. Path.GetInvalidFileNameChars(), '.']) >= 0)
            throw new ArgumentException($"featurizer id '{featurizerId}' cannot name a folder", nameof(featurizerId));
        FeaturizerId = featurizerId;
        Directory = Path.Combine(directory, featurizerId);
    }

    public int Count { get { lock (_gate) return Items.Count; } }

    public bool TryGet(string contentHash, [MaybeNullWhen(false)] out PhotoFeatures features)
    {
        lock (_gate) return Items.TryGetValue(contentHash, out features);
    }

    /// <exception cref="ArgumentException">The features' shape differs from what the cache already holds.</exception>
    public void Put(string contentHash, PhotoFeatures features)
    {
        ArgumentException.ThrowIfNullOrEmpty(contentHash);
        lock (_gate)
        {
            var existing = Items.Values.FirstOrDefault();
            if (existing is not null && (existing.Views.Length != features.Views.Length || existing.Dimension != features.Dimension))
                throw new ArgumentException(
                    $"{contentHash}: {features.Views.Length} views of {features.Dimension} values do not fit a cache of {existing.Views.Length} x {existing.Dimension}");
            Items[contentHash] = features;
            _unsaved[contentHash] = features;
        }
    }

    /// <summary>Writes what was put since the last flush to disk.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_unsaved.Count == 0) return;
            System.IO.Directory.CreateDirectory(Directory);
            WriteShard(_unsaved);
            _unsaved.Clear();
            var files = ShardFiles();
            if (files.Length > MergeAbove)
            {
                WriteShard(Items); // the merged shard lands before the old ones go, so nothing is lost in between
                foreach (var file in files) TryDelete(file);
            }
        }
    }

    public void Dispose() => Flush();

    Dictionary<string, PhotoFeatures> Items => _items ??= Load();

    Dictionary<string, PhotoFeatures> Load()
    {
        var loaded = new Dictionary<string, PhotoFeatures>();
        foreach (var file in ShardFiles().Order())
        {
            try
            {
                using var stream = File.OpenRead(file);
                var shard = FeatureShard.ReadFrom(stream);
                if (shard.FeaturizerId != FeaturizerId) continue;
                foreach (var (key, features) in shard.Items) loaded[key] = features;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // A cache is only a cache: a damaged or vanished file costs a re-featurization, not the run.
            }
        }
        return loaded;
    }

    string[] ShardFiles() =>
        System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, "*.shard") : [];

    void WriteShard(IReadOnlyDictionary<string, PhotoFeatures> contents)
    {
        var name = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}";
        var temp = Path.Combine(Directory, name + ".tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            FeatureShard.Of(FeaturizerId, contents).WriteTo(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, Path.Combine(Directory, name + ".shard"));
    }

    static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
