using Flowers.Pipeline;
using Flowers.Storage;

namespace Flowers.Tests;

public class ContentKeyTests
{
    // Keys name blobs already in users' storage (packs, feature shards): the values are pinned, not just their shape.
    [Fact]
    public void Keys_hash_the_scope_and_the_sorted_distinct_content_hashes()
    {
        Assert.Equal("329d670e59ead1543a2d368658959725", PhotoPack.KeyOf(["bb", "aa", "bb"]));
        Assert.Equal("8a662acbdb056a8b89b009c5ab2a0aed", FeaturizeShardActivity.ShardKey("resnet18-x", ["bb", "aa"]));
        Assert.Equal(ContentKey.Of(["aa", "bb"], "resnet18-x"), FeaturizeShardActivity.ShardKey("resnet18-x", ["aa", "bb", "aa"]));
        Assert.NotEqual(ContentKey.Of(["aa", "bb"]), ContentKey.Of(["aa", "bb"], "resnet18-x"));
    }
}
