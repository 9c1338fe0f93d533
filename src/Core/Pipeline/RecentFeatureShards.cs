using Flowers.Featurize;

namespace Flowers.Pipeline;

/// <summary>
/// The feature shards this process wrote and its train step has not taken yet. When one host featurizes and
/// trains (the local host; a Functions app on one instance), training takes them from here instead of
/// downloading the blobs just uploaded (33 MB on flowers128: ~0.8 s of a 3 s train step). Shard blobs are named
/// by their content, so a shard here is the blob's content. Bounded by <see cref="TrainingSettings.RecentFeatureBytes"/>,
/// oldest out first; a shard not here is read from storage as before.
/// </summary>
public sealed class RecentFeatureShards(TrainingSettings settings)
{
    private readonly LinkedList<(string Blob, FeatureShard Shard, FeatureShardSummary Summary, long Bytes)> _shards = [];
    private long _bytes;

    public void Add(string blob, FeatureShard shard, FeatureShardSummary summary)
    {
        var size = (long)shard.Items.Count * shard.ViewCount * shard.Dimension * sizeof(float);
        if (size > settings.RecentFeatureBytes) return;
        lock (_shards)
        {
            Remove(blob);
            _shards.AddLast((blob, shard, summary, size));
            _bytes += size;
            while (_bytes > settings.RecentFeatureBytes) Remove(_shards.First!.Value.Blob);
        }
    }

    /// <summary>The shard written as <paramref name="blob"/>, which is forgotten here (the train step reads each once).</summary>
    public (FeatureShard Shard, FeatureShardSummary Summary)? Take(string blob)
    {
        lock (_shards)
        {
            if (_shards.FirstOrDefault(s => s.Blob == blob) is not { Shard: not null } found) return null;
            Remove(blob);
            return (found.Shard, found.Summary);
        }
    }

    private void Remove(string blob)
    {
        for (var node = _shards.First; node is not null; node = node.Next)
        {
            if (node.Value.Blob != blob) continue;
            _bytes -= node.Value.Bytes;
            _shards.Remove(node);
            return;
        }
    }
}
