using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

public class FeatureShardTests
{
    static PhotoFeatures Features(int seed, int views = 2, int dimension = 5)
    {
        var random = new Random(seed);
        return new PhotoFeatures(Enumerable.Range(0, views)
            .Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray()).ToArray());
    }

    static byte[] Bytes(FeatureShard shard)
    {
        using var stream = new MemoryStream();
        shard.WriteTo(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Round_trips_exactly()
    {
        var items = new Dictionary<string, PhotoFeatures> { ["ab12"] = Features(1), ["cd34"] = Features(2), ["é-ünïcode"] = Features(3) };
        items["cd34"].Views[1][4] = float.NaN;
        var read = FeatureShard.ReadFrom(new MemoryStream(Bytes(new FeatureShard("resnet18-ml960-224-flip", 5, 2, items))));
        Assert.Equal("resnet18-ml960-224-flip", read.FeaturizerId);
        Assert.Equal((5, 2), (read.Dimension, read.ViewCount));
        Assert.Equal(items.Keys.Order(), read.Items.Keys.Order());
        foreach (var (key, features) in items)
            for (var v = 0; v < 2; v++) Assert.Equal(features.Views[v], read.Items[key].Views[v]);
    }

    [Fact]
    public void Layout_is_the_documented_little_endian_one()
    {
        var bytes = Bytes(new FeatureShard("id", 1, 1, new Dictionary<string, PhotoFeatures> { ["k"] = new([[1.5f]]) }));
        byte[] expected =
        [
            (byte)'F', (byte)'L', (byte)'F', (byte)'S', 1, 0, 2, 0, (byte)'i', (byte)'d',
            1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, (byte)'k', 0, 0, 0xC0, 0x3F,
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Empty_shard_round_trips()
    {
        var read = FeatureShard.ReadFrom(new MemoryStream(Bytes(FeatureShard.Of("x", new Dictionary<string, PhotoFeatures>()))));
        Assert.Empty(read.Items);
    }

    [Fact]
    public void Refuses_items_of_the_wrong_shape() =>
        Assert.Throws<ArgumentException>(() => new FeatureShard("id", 5, 2,
            new Dictionary<string, PhotoFeatures> { ["a"] = Features(1), ["b"] = Features(2, views: 1) }));

    [Fact]
    public void Damaged_bytes_give_a_clear_error()
    {
        var good = Bytes(new FeatureShard("id", 5, 2, new Dictionary<string, PhotoFeatures> { ["a"] = Features(1) }));
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => FeatureShard.ReadFrom(new MemoryStream(good[..^3]))).Message);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => FeatureShard.ReadFrom(new MemoryStream("not a shard"u8.ToArray()))).Message);
        var future = (byte[])good.Clone();
        future[4] = 9;
        Assert.Contains("format 9", Assert.Throws<InvalidDataException>(() => FeatureShard.ReadFrom(new MemoryStream(future))).Message);
    }
}
