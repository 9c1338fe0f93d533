using Flowers.Acquire;
using Flowers.Split;
using Flowers.Testing;
using Flowers.Tests.Acquire;

namespace Flowers.Tests.Split;

public class DatasetSplitterOnPhotosTests
{
    [Fact]
    public void A_scanned_folder_with_a_copied_photo_splits_without_straddling()
    {
        using var dir = new TestFolder();
        SyntheticPhotos.WriteClasses(dir.Path, new Dictionary<string, int> { ["daisy"] = 12, ["roses"] = 12 });
        File.Copy(dir["daisy/daisy_3.jpg"], dir["daisy/daisy_3 (copy).jpg"]);
        var dataset = DatasetFolder.Scan(dir.Path);

        var manifest = DatasetSplitter.Split(dataset);

        Assert.Equal(25, manifest.Entries.Count);
        Assert.Equal(manifest.Entries.Single(e => e.Name == "daisy_3.jpg").Side, manifest.Entries.Single(e => e.Name == "daisy_3 (copy).jpg").Side);
        Assert.Equal(new SplitOptions(0.2, 2018), manifest.Options);
    }

    /// <summary>The real 128 px flowers (4317 JPEGs) when this machine has them.</summary>
    [SkippableFact]
    public void The_real_flowers_split_about_80_20_per_class_with_no_duplicate_straddling()
    {
        var folder = RealFlowers.Locate();
        Skip.If(folder is null, RealFlowers.SkipReason);

        var dataset = DatasetFolder.Scan(folder!);
        var manifest = DatasetSplitter.Split(dataset);

        Assert.Equal(5, dataset.Classes.Count);
        Assert.True(dataset.Photos.Count > 4000, $"{dataset.Photos.Count} photos");
        foreach (var cls in dataset.Classes)
        {
            var test = manifest.CountOf(cls, SplitSide.Test);
            var share = test / (double)(test + manifest.CountOf(cls, SplitSide.Train));
            Assert.InRange(share, 0.15, 0.25);
        }
        Assert.All(manifest.Entries.GroupBy(e => e.ContentHash), g => Assert.Single(g.Select(e => e.Side).Distinct()));
        Assert.Equal(dataset.Photos.Count, manifest.Entries.Count + manifest.Skipped.Count);
    }
}
