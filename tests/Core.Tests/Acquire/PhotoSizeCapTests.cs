using Flowers.Acquire;
using Flowers.Testing;

namespace Flowers.Tests.Acquire;

/// <summary>Issue 16: a photo has a byte cap (the upload limit), checked at scan time, before it is hashed or read.</summary>
public class PhotoSizeCapTests
{
    /// <summary>A sparse file (costs no disk) whose first bytes are a real JPEG's, as a hostile archive would hold.</summary>
    public static string WriteHugeJpeg(string path, long bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = new FileStream(path, FileMode.Create);
        file.Write(SyntheticPhotos.Jpeg("circle", 1));
        file.SetLength(bytes);
        return path;
    }

    [Fact]
    public void A_photo_past_the_limit_is_skipped_with_its_size_and_the_limit()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 3, ["roses"] = 3 });
        WriteHugeJpeg(dir["daisy/huge.jpg"], 40L << 20);

        var dataset = DatasetFolder.Scan(dir.Path);

        var skipped = Assert.Single(dataset.Skipped);
        Assert.Equal("daisy/huge.jpg", skipped.Image);
        Assert.Equal("too large: 41,943,040 bytes (limit 33,554,432 bytes a photo)", skipped.Reason);
        Assert.Equal(6, dataset.Photos.Count);
    }

    [Fact]
    public void The_limit_is_a_setting_and_a_photo_at_it_is_taken()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        WriteHugeJpeg(dir["roses/at-limit.jpg"], 4096);
        WriteHugeJpeg(dir["roses/past-limit.jpg"], 4097);

        var dataset = DatasetFolder.Scan(dir.Path, maxPhotoBytes: 4096);

        Assert.Contains(dataset.Photos, p => p.Name == "at-limit.jpg");
        Assert.Equal("roses/past-limit.jpg", Assert.Single(dataset.Skipped).Image);
    }

    [Fact]
    public async Task A_small_tgz_of_huge_jpegs_yields_skipped_photos_not_a_dataset_of_them()
    {
        using var dir = new TestFolder();
        var folder = SyntheticPhotos.WriteClasses(dir["src/photos"], new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        for (var i = 0; i < 3; i++) WriteHugeJpeg(Path.Combine(folder, "roses", $"bomb-{i}.jpg"), 40L << 20);
        var archive = TestArchives.TgzOf(folder, dir["bombs.tgz"]);
        Assert.True(new FileInfo(archive).Length < 4 << 20, $"the archive is {new FileInfo(archive).Length:N0} bytes, not a few MB");   // 120 MiB of photos

        var dataset = await new DatasetAcquirer(new AcquireOptions { CacheDirectory = dir["cache"] }).AcquireAsync(archive);

        Assert.Equal(4, dataset.Photos.Count);
        Assert.Equal(3, dataset.Skipped.Count(s => s.Reason.StartsWith("too large: 41,943,040 bytes")));
    }
}
