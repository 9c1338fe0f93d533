using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Tests;

/// <summary>Issue 16: a pack entry past the photo limit is refused from the zip's directory, before a buffer of its
/// declared size is allocated.</summary>
public class PhotoPackSizeCapTests
{
    [Fact]
    public async Task An_entry_past_the_photo_limit_is_refused_as_invalid_data_naming_it()
    {
        var small = SyntheticPhotos.Jpeg(1);
        var large = new byte[5000];
        small.CopyTo(large, 0);
        using var pack = new MemoryStream();
        await PhotoPack.WriteAsync(pack, [("aaaa", ".jpg", new MemoryStream(small)), ("bbbb", ".jpg", new MemoryStream(large))]);

        pack.Position = 0;
        var read = new List<string>();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var (hash, _) in PhotoPack.ReadAsync(pack, wanted: null, maxPhotoBytes: 4096)) read.Add(hash);
        });

        Assert.Equal(["aaaa"], read);
        Assert.Equal("its entry bbbb.jpg is 5,000 bytes, more than the limit of 4,096 a photo", error.Message);
    }
}
