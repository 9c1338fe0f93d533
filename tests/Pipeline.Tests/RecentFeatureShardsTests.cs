using Flowers.Featurize;

namespace Flowers.Pipeline.Tests;

public class RecentFeatureShardsTests
{
    private static FeatureShard Shard(int photos) => FeatureShard.Of("f",
        Enumerable.Range(0, photos).ToDictionary(i => $"h{i}", _ => new PhotoFeatures([new float[4], new float[4]])));

    private static readonly FeatureShardSummary Summary = new("f", 1, 1, []);

    [Fact]
    public void A_shard_is_taken_once_and_the_oldest_go_when_the_budget_is_spent()
    {
        // 2 views x 4 floats = 32 bytes a photo: room for 10 photos.
        var recent = new RecentFeatureShards(new TrainingSettings { RecentFeatureBytes = 320 });
        recent.Add("a.bin", Shard(4), Summary);
        recent.Add("b.bin", Shard(4), Summary);
        recent.Add("c.bin", Shard(4), Summary);   // 12 photos: a goes
        recent.Add("big.bin", Shard(11), Summary); // over the whole budget: not kept, nothing else goes

        Assert.Null(recent.Take("a.bin"));
        Assert.Null(recent.Take("big.bin"));
        Assert.Equal(4, recent.Take("b.bin")!.Value.Shard.Items.Count);
        Assert.Null(recent.Take("b.bin"));
        Assert.NotNull(recent.Take("c.bin"));
    }

    [Fact]
    public void A_zero_budget_keeps_nothing()
    {
        var recent = new RecentFeatureShards(new TrainingSettings { RecentFeatureBytes = 0 });
        recent.Add("a.bin", Shard(1), Summary);
        Assert.Null(recent.Take("a.bin"));
    }
}
