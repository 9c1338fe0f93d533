using System.Security.Cryptography;

namespace Flowers.Pipeline.Tests;

public class FeatureShardPlanTests
{
    private static string Hash(int i) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));

    [Theory]
    [InlineData(0, 64, 1)]
    [InlineData(64, 64, 1)]
    [InlineData(65, 64, 2)]
    [InlineData(3670, 64, 64)]
    [InlineData(4317, 64, 128)]
    [InlineData(25, 8, 4)]
    public void Shard_count_is_the_smallest_power_of_two_that_keeps_shards_at_most_the_size_on_average(int photos, int size, int count) =>
        Assert.Equal(count, FeatureShardPlan.ShardCountFor(photos, size));

    [Fact]
    public void Photos_spread_evenly_and_a_new_photo_moves_no_other()
    {
        var hashes = Enumerable.Range(0, 4000).Select(Hash).ToList();
        var count = FeatureShardPlan.ShardCountFor(hashes.Count, 64);
        var sizes = hashes.GroupBy(h => FeatureShardPlan.ShardOf(h, count)).Select(g => g.Count()).ToList();
        Assert.Equal(count, sizes.Count);
        Assert.All(sizes, size => Assert.InRange(size, 30, 100)); // 64 shards of 62.5 on average

        var grown = FeatureShardPlan.ShardCountFor(hashes.Count + 1, 64);
        Assert.Equal(count, grown);
        Assert.All(hashes, h => Assert.Equal(FeatureShardPlan.ShardOf(h, count), FeatureShardPlan.ShardOf(h, grown)));
    }
}
