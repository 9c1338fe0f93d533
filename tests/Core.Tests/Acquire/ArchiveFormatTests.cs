using System.Formats.Tar;
using Flowers.Acquire;
using Flowers.Testing;
using SharpCompress.Common;
using SharpCompress.Writers;
using SharpCompress.Writers.Zip;

namespace Flowers.Tests.Acquire;

/// <summary>Issue 16: only the formats the product tests are extracted; damaged archives are unusable input (not
/// retried as transient); every decompressed byte counts against the total, skipped entries too.</summary>
public class ArchiveFormatTests
{
    private static DatasetAcquirer AcquirerFor(TestFolder dir, long maxExtractedBytes = 8L << 30) =>
        new(new AcquireOptions { CacheDirectory = dir["cache"], MaxExtractedBytes = maxExtractedBytes });

    private static void NothingExtracted(TestFolder dir) =>
        Assert.True(!Directory.Exists(dir["cache/extracted"]) || Directory.GetFileSystemEntries(dir["cache/extracted"]).Length == 0);

    /// <summary>A real .tar.xz (made with Python's lzma) of photos/{daisy,roses}/{0,1}.jpg.</summary>
    private const string TarXz =
        "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4Cf/AIJdADgaCkSJXaIBU8weMZZzglImdmX11WXe96lAOMHc4s8hs3GfbEEWwd9yQfM+e8MhEd09SWM6ViMd7V4vXBx5Jh4A"
        + "+prEjo24btEXPaFTObDwXuy5bgh70O6ufI+evrVXvwEoa/DvqALbncTRz1pJLDa7+iPnq3VJqs2AQHzT45fKcgAAAAACeYSm4gxraAABngGAUAAA1RK8WLHEZ/sCAAAAAARZWg==";

    [Fact]
    public async Task A_tar_xz_is_refused_by_format_as_unusable_input()
    {
        using var dir = new TestFolder();
        var archive = dir.Write("photos.tar.xz", Convert.FromBase64String(TarXz));

        var error = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(archive));

        Assert.Equal("Archive 'photos.tar.xz' is an xz archive; only .tar, .tgz/.tar.gz or .zip (deflate or stored entries) archives are accepted. "
            + "Repack it, e.g. as a .tgz.", error.Message);
        NothingExtracted(dir);
    }

    [Fact]
    public async Task A_7z_is_refused_by_format()
    {
        using var dir = new TestFolder();
        var archive = dir.Write("photos.7z", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00, 0x04, .. new byte[64]]);

        var error = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(archive));

        Assert.StartsWith("Archive 'photos.7z' is a 7z archive; only .tar, .tgz/.tar.gz or .zip", error.Message);
    }

    [Theory]
    [InlineData(CompressionType.BZip2)]
    [InlineData(CompressionType.LZMA)]
    public async Task A_zip_entry_compressed_with_another_method_is_refused_by_name(CompressionType method)
    {
        using var dir = new TestFolder();
        var path = dir["photos.zip"];
        using (var file = File.Create(path))
        using (var zip = new ZipWriter(file, new ZipWriterOptions(method)))
            foreach (var name in new[] { "photos/daisy/a.jpg", "photos/roses/b.jpg" })
                zip.Write(name, new MemoryStream(SyntheticPhotos.Jpeg(1)));

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() => AcquirerFor(dir).AcquireAsync(path));

        Assert.Equal("photos/daisy/a.jpg", error.Entry);
        Assert.Contains($"is compressed with {method}; only deflate or stored zip entries are accepted", error.Message);
        NothingExtracted(dir);
    }

    [Fact]
    public async Task A_corrupt_gzip_is_unusable_input_not_a_transient_fault()
    {
        using var dir = new TestFolder();
        var folder = SyntheticPhotos.WriteClasses(dir["src/photos"], new Dictionary<string, int> { ["daisy"] = 4, ["roses"] = 4 });
        var good = File.ReadAllBytes(TestArchives.TgzOf(folder, dir["good.tgz"]));
        // Damage at several places: some make the tar end early or read as other names before the gzip stream fails.
        foreach (var at in Enumerable.Range(2, 8).Select(k => good.Length * k / 12))
        {
            var bytes = (byte[])good.Clone();
            for (var i = at; i < at + 64; i++) bytes[i] ^= 0x5A;   // the deflate stream goes bad mid-way
            var archive = dir.Write("corrupt.tgz", bytes);

            var error = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(archive));

            Assert.StartsWith("Archive 'corrupt.tgz' is damaged or not a .tar, .tgz/.tar.gz or .zip", error.Message);
            NothingExtracted(dir);
        }
    }

    [Fact]
    public async Task A_gzip_cut_short_is_unusable_input()
    {
        using var dir = new TestFolder();
        var folder = SyntheticPhotos.WriteClasses(dir["src/photos"], new Dictionary<string, int> { ["daisy"] = 4, ["roses"] = 4 });
        var bytes = File.ReadAllBytes(TestArchives.TgzOf(folder, dir["good.tgz"]));
        var archive = dir.Write("cut.tgz", bytes[..(bytes.Length / 2)]);

        var error = await Assert.ThrowsAsync<UnusableDatasetException>(() => AcquirerFor(dir).AcquireAsync(archive));

        Assert.Contains("'cut.tgz' is damaged", error.Message);
    }

    [Fact]
    public async Task Bytes_of_an_entry_that_is_skipped_count_against_the_total()
    {
        using var dir = new TestFolder();
        // "./" is skipped (it names the folder itself), but its 200 KB still have to be decompressed to reach the next entry.
        var archive = TestArchives.Tgz(dir["skip.tgz"],
            new TarItem("./", new byte[200_000]),
            new TarItem("photos/daisy/a.jpg", SyntheticPhotos.Jpeg(1)),
            new TarItem("photos/roses/b.jpg", SyntheticPhotos.Jpeg(2)));

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() => AcquirerFor(dir, maxExtractedBytes: 100_000).AcquireAsync(archive));

        Assert.Equal("./", error.Entry);
        Assert.Contains("past the limit of 100,000 bytes", error.Message);
    }

    [Fact]
    public async Task A_plain_tar_and_a_zip_with_stored_entries_are_still_extracted()
    {
        using var dir = new TestFolder();
        var folder = SyntheticPhotos.WriteClasses(dir["src/photos"], new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        var tar = dir["photos.tar"];
        TarFile.CreateFromDirectory(folder, tar, includeBaseDirectory: true);
        var zip = dir["stored.zip"];
        System.IO.Compression.ZipFile.CreateFromDirectory(folder, zip, System.IO.Compression.CompressionLevel.NoCompression, includeBaseDirectory: true);

        Assert.Equal(4, (await AcquirerFor(dir).AcquireAsync(tar)).Photos.Count);
        Assert.Equal(4, (await AcquirerFor(dir).AcquireAsync(zip)).Photos.Count);
    }
}
