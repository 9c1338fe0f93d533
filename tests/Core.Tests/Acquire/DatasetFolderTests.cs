using System.Security.Cryptography;
using Flowers.Acquire;
using Flowers.Testing;

namespace Flowers.Tests.Acquire;

public class DatasetFolderTests
{
    [Fact]
    public void Classes_are_the_sorted_sub_folders_and_photos_carry_their_hash()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["tulips"] = 3, ["daisy"] = 2, ["Roses"] = 4 });

        var dataset = DatasetFolder.Scan(dir.Path);

        Assert.Equal(["Roses", "daisy", "tulips"], dataset.Classes);   // ordinal: upper case first
        Assert.Equal(9, dataset.Photos.Count);
        Assert.Equal(4, dataset.CountOf("Roses"));
        var photo = dataset.Photos.Single(p => p.Image == "daisy/daisy_1.jpg");
        var bytes = File.ReadAllBytes(photo.FilePath);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), photo.ContentHash);
        Assert.Equal(bytes.Length, photo.Length);
        Assert.Equal(dir["daisy/daisy_1.jpg"], photo.FilePath);
        Assert.Empty(dataset.Skipped);
        Assert.Equal(0, dataset.NonImageFiles);
    }

    [Fact]
    public void A_single_wrapping_folder_is_looked_through_and_non_images_hidden_files_are_left_out()
    {
        using var dir = new TestFolder();
        var wrapped = SyntheticPhotos.WriteClasses(dir["flower_photos"], new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        dir.Write("flower_photos/LICENSE.txt", "All photos are CC-BY"u8.ToArray());
        dir.Write("flower_photos/daisy/notes.md", "# notes"u8.ToArray());
        dir.Write("flower_photos/daisy/.DS_Store", [0, 0, 0, 1]);
        dir.Write("flower_photos/roses/._roses_0.jpg", [0, 5, 22, 7]);   // macOS resource fork
        dir.Write(".hidden/other/x.jpg", SyntheticPhotos.Jpeg(1));

        var dataset = DatasetFolder.Scan(dir.Path);

        Assert.Equal(wrapped, dataset.Root);
        Assert.Equal(["daisy", "roses"], dataset.Classes);
        Assert.Equal(4, dataset.Photos.Count);
        Assert.Equal(2, dataset.NonImageFiles);   // LICENSE.txt and notes.md; hidden files are not even counted
        Assert.Empty(dataset.Skipped);
    }

    [Fact]
    public void A_photo_name_with_other_content_is_skipped_with_its_reason_and_other_image_formats_count()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        dir.Write("daisy/fake.jpg", "<html>404 not found</html>"u8.ToArray());
        dir.Write("roses/empty.png", []);
        dir.Write("roses/really_png.jpg", SyntheticPhotos.Png(42));    // misnamed, but an image: decoding will cope
        dir.Write("roses/modern.webp", SyntheticPhotos.Webp(43));

        var dataset = DatasetFolder.Scan(dir.Path);

        Assert.Equal(6, dataset.Photos.Count);
        Assert.Contains(dataset.Photos, p => p.Image == "roses/really_png.jpg");
        Assert.Contains(dataset.Photos, p => p.Image == "roses/modern.webp");
        var fake = Assert.Single(dataset.Skipped, s => s.Image == "daisy/fake.jpg");
        Assert.Contains("not an image", fake.Reason);
        Assert.Contains("3C68746D", fake.Reason);   // "<htm" in hex: the reason shows what was found
        var empty = Assert.Single(dataset.Skipped, s => s.Image == "roses/empty.png");
        Assert.Contains("empty", empty.Reason);
    }

    [Fact]
    public void No_class_folders_is_a_clear_error()
    {
        using var dir = new TestFolder();
        dir.Write("a.jpg", SyntheticPhotos.Jpeg(1));
        dir.Write("README.txt", "hi"u8.ToArray());

        var error = Assert.Throws<UnusableDatasetException>(() => DatasetFolder.Scan(dir.Path));
        Assert.Contains("No class folders", error.Message);
    }

    [Fact]
    public void One_class_only_is_a_clear_error_naming_it()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 3 });

        var error = Assert.Throws<UnusableDatasetException>(() => DatasetFolder.Scan(dir.Path));
        Assert.Contains("Only one class ('daisy')", error.Message);
    }

    [Fact]
    public void A_class_folder_without_photos_is_named()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 2, ["roses"] = 2 });
        dir.Write("tulips/fake.jpg", "text"u8.ToArray());

        var error = Assert.Throws<UnusableDatasetException>(() => DatasetFolder.Scan(dir.Path));
        Assert.Contains("'tulips'", error.Message);
    }

    [Fact]
    public void A_missing_folder_is_unavailable_with_the_dataset_hint()
    {
        using var dir = new TestFolder();
        var error = Assert.Throws<DatasetUnavailableException>(() => DatasetFolder.Scan(dir["nope"]));
        Assert.Contains("--dataset", error.Message);
    }

    [Fact]
    public void Fingerprint_depends_on_content_and_names_not_on_location()
    {
        using var a = new TestFolder();
        using var b = new TestFolder();
        var counts = new Dictionary<string, int> { ["daisy"] = 3, ["roses"] = 3 };
        SyntheticPhotos.WriteClasses(a.Path, counts);
        SyntheticPhotos.WriteClasses(b.Path, counts);
        var original = DatasetFolder.Scan(a.Path).Fingerprint;

        Assert.Matches("^[0-9a-f]{64}$", original);
        Assert.Equal(original, DatasetFolder.Scan(b.Path).Fingerprint);

        File.Move(b["daisy/daisy_0.jpg"], b["daisy/daisy_renamed.jpg"]);
        var renamed = DatasetFolder.Scan(b.Path).Fingerprint;
        Assert.NotEqual(original, renamed);

        File.WriteAllBytes(b["daisy/daisy_renamed.jpg"], SyntheticPhotos.Jpeg(123456));
        Assert.NotEqual(renamed, DatasetFolder.Scan(b.Path).Fingerprint);
    }

    [Fact]
    public void Photo_formats_are_recognised_by_magic_bytes()
    {
        byte[] gif = [.. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0];
        var bmp = new byte[54];
        "BM"u8.CopyTo(bmp);
        BitConverter.GetBytes(54).CopyTo(bmp, 2);
        BitConverter.GetBytes(40).CopyTo(bmp, 14);   // BITMAPINFOHEADER

        Assert.Equal("jpeg", PhotoFormat.Detect(SyntheticPhotos.Jpeg(1)));
        Assert.Equal("png", PhotoFormat.Detect(SyntheticPhotos.Png(1)));
        Assert.Equal("webp", PhotoFormat.Detect(SyntheticPhotos.Webp(1)));
        Assert.Equal("gif", PhotoFormat.Detect(gif));
        Assert.Equal("bmp", PhotoFormat.Detect(bmp));
        Assert.Null(PhotoFormat.Detect("BM is not a bitmap, just text"u8));
        Assert.Null(PhotoFormat.Detect("RIFF\0\0\0\0WAVEfmt "u8));
        Assert.Null(PhotoFormat.Detect([]));
    }
}
