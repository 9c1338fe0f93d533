using System.Formats.Tar;
using Flowers.Acquire;
using Flowers.Testing;

namespace Flowers.Tests.Acquire;

public class ArchiveTests
{
    private static readonly Dictionary<string, int> Counts = new() { ["daisy"] = 3, ["roses"] = 4 };

    private static DatasetAcquirer AcquirerFor(TestFolder dir, Func<AcquireOptions, AcquireOptions>? tweak = null)
    {
        var options = new AcquireOptions { CacheDirectory = dir["cache"] };
        return new DatasetAcquirer(tweak is null ? options : tweak(options));
    }

    /// <summary>flower_photos/{daisy,roses}/*.jpg + flower_photos/LICENSE.txt, as in the TensorFlow archive.</summary>
    private static string WriteFlowerPhotos(TestFolder dir)
    {
        var folder = SyntheticPhotos.WriteClasses(dir["src/flower_photos"], Counts);
        dir.Write("src/flower_photos/LICENSE.txt", "CC-BY"u8.ToArray());
        return folder;
    }

    [Fact]
    public async Task A_tgz_and_a_zip_give_the_same_dataset_as_the_folder_and_are_extracted_once()
    {
        using var dir = new TestFolder();
        var folder = WriteFlowerPhotos(dir);
        var tgz = TestArchives.TgzOf(folder, dir["flower_photos.tgz"]);
        var zip = TestArchives.ZipOf(folder, dir["flower_photos.zip"]);
        var acquirer = AcquirerFor(dir);

        var fromFolder = await acquirer.AcquireAsync(dir["src"]);
        var fromTgz = await acquirer.AcquireAsync(tgz);
        var fromZip = await acquirer.AcquireAsync(zip);

        foreach (var dataset in new[] { fromTgz, fromZip })
        {
            Assert.Equal(["daisy", "roses"], dataset.Classes);
            Assert.Equal(7, dataset.Photos.Count);
            Assert.Equal(1, dataset.NonImageFiles);
            Assert.Equal(fromFolder.Fingerprint, dataset.Fingerprint);
            Assert.StartsWith(dir["cache"], dataset.Root);
            Assert.EndsWith("flower_photos", dataset.Root);
        }

        // A re-run finds the extraction in the cache: a marker left in it survives, and no temp folder remains.
        var marker = Path.Combine(fromTgz.Root, ".marker");
        File.WriteAllText(marker, "still here");
        var again = await AcquirerFor(dir).AcquireAsync(tgz);
        Assert.Equal(fromTgz.Root, again.Root);
        Assert.True(File.Exists(marker));
        Assert.Empty(Directory.GetDirectories(dir["cache/extracted"], ".tmp-*"));
    }

    public static TheoryData<string, TarItem, string> HostileTarEntries => new()
    {
        { "parent", new TarItem("../x.jpg", [1, 2, 3]), "'..'" },
        { "nested parent", new TarItem("flower_photos/daisy/../../../x.jpg", [1, 2, 3]), "'..'" },
        { "absolute", new TarItem("/tmp/flowers-evil.jpg", [1, 2, 3]), "absolute" },
        { "symlink", new TarItem("flower_photos/daisy/passwd.jpg", Type: TarEntryType.SymbolicLink, LinkName: "/etc/passwd"), "link" },
        { "hard link", new TarItem("flower_photos/daisy/hard.jpg", Type: TarEntryType.HardLink, LinkName: "flower_photos/daisy/ok.jpg"), "link" },
    };

    [Theory]
    [MemberData(nameof(HostileTarEntries))]
    public async Task A_hostile_tgz_entry_is_refused_by_name_and_nothing_is_kept(string what, TarItem hostile, string reason)
    {
        using var dir = new TestFolder();
        var tgz = TestArchives.Tgz(dir["evil.tgz"],
            new TarItem("flower_photos/daisy/ok.jpg", SyntheticPhotos.Jpeg(1)),
            new TarItem("flower_photos/roses/ok.jpg", SyntheticPhotos.Jpeg(2)),
            hostile);

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() => AcquirerFor(dir).AcquireAsync(tgz));

        Assert.Equal(hostile.Name, error.Entry);
        Assert.Contains(hostile.Name, error.Message);
        Assert.Contains(reason, error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir["cache/extracted"]));   // neither a final nor a temp folder
        Assert.False(File.Exists(dir["x.jpg"]), what);
        Assert.False(File.Exists(dir["cache/x.jpg"]), what);
    }

    [Theory]
    [InlineData("../zip-evil.jpg", null, "'..'")]
    [InlineData("..\\zip-evil.jpg", null, "'..'")]
    [InlineData("/tmp/zip-evil.jpg", null, "absolute")]
    [InlineData("flower_photos/daisy/link.jpg", 0xA1FF, "symbolic link")]   // S_IFLNK | 0777
    public async Task A_hostile_zip_entry_is_refused_by_name(string name, int? unixMode, string reason)
    {
        using var dir = new TestFolder();
        var zip = TestArchives.Zip(dir["evil.zip"],
            ("flower_photos/daisy/ok.jpg", SyntheticPhotos.Jpeg(1), null),
            ("flower_photos/roses/ok.jpg", SyntheticPhotos.Jpeg(2), null),
            (name, "/etc/passwd"u8.ToArray(), unixMode));

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() => AcquirerFor(dir).AcquireAsync(zip));

        Assert.Equal(name, error.Entry);
        Assert.Contains(reason, error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir["cache/extracted"]));
    }

    [Theory]
    [InlineData("total")]
    [InlineData("entry")]
    [InlineData("count")]
    public async Task A_zip_bomb_is_stopped_at_the_cap(string cap)
    {
        using var dir = new TestFolder();
        var zeros = new byte[1 << 20];   // 1 MiB of zeros deflates to about 1 KiB
        var zip = TestArchives.Zip(dir["bomb.zip"],
            ("flower_photos/daisy/a.jpg", SyntheticPhotos.Jpeg(1), null),
            ("flower_photos/roses/b.jpg", SyntheticPhotos.Jpeg(2), null),
            ("flower_photos/roses/bomb.jpg", zeros, null),
            ("flower_photos/roses/bomb2.jpg", zeros, null));
        Assert.True(new FileInfo(zip).Length < 64 * 1024);
        var acquirer = AcquirerFor(dir, o => cap switch
        {
            "total" => o with { MaxExtractedBytes = (1 << 20) + (1 << 19) },
            "entry" => o with { MaxEntryBytes = 256 * 1024 },
            _ => o with { MaxEntries = 3 },
        });

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() => acquirer.AcquireAsync(zip));

        Assert.Equal(cap == "entry" ? "flower_photos/roses/bomb.jpg" : "flower_photos/roses/bomb2.jpg", error.Entry);
        Assert.Contains("limit", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir["cache/extracted"]));
    }

    [Fact]
    public async Task An_archive_without_class_folders_or_with_one_class_is_unusable()
    {
        using var dir = new TestFolder();
        var flat = TestArchives.Tgz(dir["flat.tgz"], new TarItem("a.jpg", SyntheticPhotos.Jpeg(1)), new TarItem("b.jpg", SyntheticPhotos.Jpeg(2)));
        var single = TestArchives.Zip(dir["single.zip"],
            ("photos/daisy/a.jpg", SyntheticPhotos.Jpeg(1), null), ("photos/daisy/b.jpg", SyntheticPhotos.Jpeg(2), null));

        var noClasses = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(flat));
        var oneClass = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(single));

        Assert.Contains("No class folders", noClasses.Message);
        Assert.Contains("Only one class ('daisy')", oneClass.Message);
    }

    [Fact]
    public async Task A_file_that_is_no_archive_or_a_missing_path_is_unavailable_with_the_hint()
    {
        using var dir = new TestFolder();
        var notArchive = dir.Write("photos.tgz", "this is text, not gzip"u8.ToArray());

        var garbage = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(notArchive));   // not retried: the same bytes fail again
        var missing = await Assert.ThrowsAsync<DatasetUnavailableException>(() => AcquirerFor(dir).AcquireAsync(dir["nowhere"]));

        Assert.Contains("photos.tgz", garbage.Message);
        Assert.Contains("--dataset <folder|archive|url>", garbage.Message);
        Assert.Contains("nowhere", missing.Message);
        Assert.Contains("--dataset <folder|archive|url>", missing.Message);
    }
}
