using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

public sealed class LocalFeatureCacheTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("flowers-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    static PhotoFeatures Features(float x) => new([[x, x + 1, x + 2], [x, -x, 0]]);

    [Fact]
    public void A_flushed_put_is_a_hit_for_a_later_cache_on_the_same_folder()
    {
        using (var cache = new LocalFeatureCache(_directory, "resnet18-ml960-224-flip"))
        {
            Assert.False(cache.TryGet("aa", out _));
            cache.Put("aa", Features(1));
            Assert.True(cache.TryGet("aa", out var same));
            Assert.Equal(1, same.Views[0][0]);
        } // Dispose flushes

        var reopened = new LocalFeatureCache(_directory, "resnet18-ml960-224-flip");
        Assert.True(reopened.TryGet("aa", out var hit));
        Assert.Equal(Features(1).Views[1], hit.Views[1]);
        Assert.False(new LocalFeatureCache(_directory, "resnet18-512-224").TryGet("aa", out _)); // other featurizer, other key space
    }

    [Fact]
    public void Many_flushes_are_merged_and_nothing_is_lost()
    {
        var cache = new LocalFeatureCache(_directory, "f");
        for (var i = 0; i < 40; i++)
        {
            cache.Put($"h{i}", Features(i));
            cache.Flush();
        }
        Assert.True(Directory.GetFiles(cache.Directory, "*.shard").Length <= 17);
        Assert.Empty(Directory.GetFiles(cache.Directory, "*.tmp"));
        var reopened = new LocalFeatureCache(_directory, "f");
        Assert.Equal(40, reopened.Count);
        Assert.True(reopened.TryGet("h39", out var last) && last.Views[0][0] == 39);
    }

    [Fact]
    public void A_damaged_shard_file_is_ignored()
    {
        using (var cache = new LocalFeatureCache(_directory, "f")) cache.Put("good", Features(2));
        File.WriteAllText(Path.Combine(_directory, "f", "zzz.shard"), "garbage");
        var reopened = new LocalFeatureCache(_directory, "f");
        Assert.True(reopened.TryGet("good", out _));
        Assert.Equal(1, reopened.Count);
    }

    [Fact]
    public void Refuses_features_of_another_shape()
    {
        var cache = new LocalFeatureCache(_directory, "f");
        cache.Put("a", Features(1));
        Assert.Throws<ArgumentException>(() => cache.Put("b", new PhotoFeatures([[1f, 2f]])));
    }
}
