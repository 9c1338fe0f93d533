using Flowers.Split;

namespace Flowers.Pipeline;

/// <summary>
/// How the split manifest is cut into featurize shards: by content hash, into a power-of-two number of
/// buckets holding about <c>shardSize</c> photos or fewer. Adding or removing a few photos changes only the
/// shards their hashes fall in (until the count doubles or halves), so a re-run after a small change finds
/// every other shard already featurized. Cutting by position would shift every shard after the change.
/// </summary>
public static class FeatureShardPlan
{
    /// <summary>Most shards a run cuts, whatever the shard size: each is an activity and an orchestration episode, and
    /// shardSize 1 on a large data set made up to 2^18 of them; a larger data set gets larger shards instead.</summary>
    public const int MaxShards = 1024;

    public static int ShardCountFor(int photos, int shardSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardSize, 1);
        var count = 1;
        while ((long)count * shardSize < photos && count < MaxShards) count *= 2;
        return count;
    }

    /// <summary>The shard of a photo: the top bits of its content hash (lowercase hex SHA-256).</summary>
    public static int ShardOf(string contentHash, int shardCount) =>
        (int)(((ulong)Convert.ToUInt32(contentHash[..8], 16) * (ulong)shardCount) >> 32);

    /// <summary>The manifest entries of shard <paramref name="index"/>, in manifest order.</summary>
    public static IReadOnlyList<SplitEntry> Entries(SplitManifest manifest, int index, int shardCount) =>
        manifest.Entries.Where(e => ShardOf(e.ContentHash, shardCount) == index).ToList();
}
