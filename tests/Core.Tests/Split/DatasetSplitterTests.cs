using Flowers.Acquire;
using Flowers.Split;

namespace Flowers.Tests.Split;

public class DatasetSplitterTests
{
    private static readonly string[] FiveClasses = ["daisy", "dandelion", "roses", "sunflowers", "tulips"];

    /// <summary>(class, name, hash) rows with distinct hashes, names like "roses_0017.jpg".</summary>
    private static List<(string Class, string Name, string ContentHash)> Photos(IEnumerable<string> classes, int perClass, int first = 0) =>
        classes.SelectMany(c => Enumerable.Range(first, perClass).Select(i => (c, $"{c}_{i:D4}.jpg", $"{c}-{i}-hash"))).ToList();

    private static Dictionary<string, SplitSide> SidesOf(SplitManifest manifest) =>
        manifest.Entries.ToDictionary(e => e.Image, e => e.Side);

    [Fact]
    public void Adding_photos_never_moves_the_existing_ones()
    {
        var before = DatasetSplitter.Split(FiveClasses, Photos(FiveClasses, 200), new SplitOptions());
        var grown = Photos(FiveClasses, 200).Concat(Photos(FiveClasses, 150, first: 200)).Concat(Photos(["lilies"], 40)).ToList();

        var after = DatasetSplitter.Split([.. FiveClasses, "lilies"], grown, new SplitOptions());

        var sidesAfter = SidesOf(after);
        Assert.All(before.Entries, e => Assert.Equal(e.Side, sidesAfter[e.Image]));
        Assert.Equal(before.Entries.Count + 5 * 150 + 40, after.Entries.Count);
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.35)]
    public void Each_class_holds_out_about_the_test_fraction(double fraction)
    {
        var manifest = DatasetSplitter.Split(FiveClasses, Photos(FiveClasses, 700), new SplitOptions(fraction));

        foreach (var cls in FiveClasses)
        {
            var test = manifest.CountOf(cls, SplitSide.Test);
            var share = test / (double)(test + manifest.CountOf(cls, SplitSide.Train));
            Assert.InRange(share, fraction - 0.05, fraction + 0.05);   // about 3.3 binomial standard deviations
        }
        Assert.Equal(5 * 700, manifest.Entries.Count);
    }

    [Fact]
    public void The_seed_decides_the_split_and_the_same_seed_repeats_it()
    {
        var photos = Photos(FiveClasses, 300);
        var a = SidesOf(DatasetSplitter.Split(FiveClasses, photos, new SplitOptions(Seed: 2018)));
        var again = SidesOf(DatasetSplitter.Split(FiveClasses, Enumerable.Reverse(photos), new SplitOptions(Seed: 2018)));
        var b = SidesOf(DatasetSplitter.Split(FiveClasses, photos, new SplitOptions(Seed: 7)));

        Assert.Equal(a, again);
        var moved = a.Count(kv => b[kv.Key] != kv.Value);
        // Independent 80/20 draws disagree on 2 * 0.2 * 0.8 = 32% of the photos.
        Assert.InRange(moved / (double)a.Count, 0.25, 0.40);
    }

    [Fact]
    public void Exact_duplicates_in_a_class_never_straddle_the_split()
    {
        // Every third photo has two more copies under other names (same bytes = same hash).
        var photos = new List<(string, string, string)>();
        for (var i = 0; i < 300; i++)
        {
            photos.Add(("daisy", $"daisy_{i:D4}.jpg", $"h{i}"));
            if (i % 3 == 0)
            {
                photos.Add(("daisy", $"copy_of_{i:D4}.jpg", $"h{i}"));
                photos.Add(("daisy", $"zz_again_{i:D4}.jpg", $"h{i}"));
            }
        }
        photos.Add(("roses", "r1.jpg", "r1"));
        photos.Add(("roses", "r2.jpg", "r2"));

        for (var seed = 0; seed < 20; seed++)
        {
            var manifest = DatasetSplitter.Split(["daisy", "roses"], photos, new SplitOptions(Seed: seed));
            Assert.All(manifest.Entries.GroupBy(e => e.ContentHash), g => Assert.Single(g.Select(e => e.Side).Distinct()));
            Assert.Equal(photos.Count, manifest.Entries.Count);
        }
    }

    [Fact]
    public void The_same_bytes_under_two_classes_are_left_out_and_both_paths_are_named()
    {
        var photos = Photos(["daisy", "roses"], 10);
        photos.Add(("daisy", "mystery.jpg", "same-bytes"));
        photos.Add(("roses", "mystery_too.jpg", "same-bytes"));

        var manifest = DatasetSplitter.Split(["daisy", "roses"], photos, new SplitOptions());

        Assert.DoesNotContain(manifest.Entries, e => e.ContentHash == "same-bytes");
        Assert.Equal(20, manifest.Entries.Count);
        Assert.Equal(["daisy/mystery.jpg", "roses/mystery_too.jpg"], manifest.Skipped.Select(s => s.Image));
        Assert.Contains("'roses/mystery_too.jpg'", manifest.Skipped[0].Reason);
        Assert.Contains("'daisy/mystery.jpg'", manifest.Skipped[1].Reason);
    }

    [Fact]
    public void Names_differing_only_after_nohash_land_on_the_same_side()
    {
        Assert.Equal("bird", DatasetSplitter.NameForHashing("bird_nohash_3.jpg"));
        Assert.Equal("plain.jpg", DatasetSplitter.NameForHashing("plain.jpg"));

        var photos = Photos(["daisy", "roses"], 50);
        for (var subject = 0; subject < 30; subject++)
            for (var shot = 0; shot < 4; shot++)
                photos.Add(("daisy", $"subject{subject}_nohash_{shot}.jpg", $"s{subject}-{shot}"));

        for (var seed = 0; seed < 10; seed++)
        {
            var manifest = DatasetSplitter.Split(["daisy", "roses"], photos, new SplitOptions(Seed: seed));
            var bySubject = manifest.Entries.Where(e => e.Name.Contains("_nohash_")).GroupBy(e => e.Name[..e.Name.IndexOf('_')]);
            Assert.All(bySubject, g => Assert.Single(g.Select(e => e.Side).Distinct()));
            Assert.Contains(bySubject, g => g.First().Side == SplitSide.Test);
        }
    }

    [Fact]
    public void Small_classes_keep_one_photo_on_each_side()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var photos = Photos(["pair"], 2).Concat(Photos(["trio"], 3)).Concat(Photos(["big"], 40)).ToList();
            var manifest = DatasetSplitter.Split(["big", "pair", "trio"], photos, new SplitOptions(Seed: seed));
            foreach (var cls in manifest.Classes)
            {
                Assert.True(manifest.CountOf(cls, SplitSide.Train) >= 1, $"seed {seed}: {cls} has no train photo");
                Assert.True(manifest.CountOf(cls, SplitSide.Test) >= 1, $"seed {seed}: {cls} has no test photo");
            }
            Assert.Equal(1, manifest.CountOf("pair", SplitSide.Test));
        }
    }

    [Fact]
    public void A_class_too_small_to_split_is_named_with_its_count()
    {
        var photos = Photos(["daisy"], 5).Concat(Photos(["roses"], 1)).ToList();
        photos.Add(("tulips", "t1.jpg", "one-tulip"));
        photos.Add(("tulips", "t1_copy.jpg", "one-tulip"));

        var error = Assert.Throws<UnusableDatasetException>(
            () => DatasetSplitter.Split(["daisy", "roses", "tulips"], photos, new SplitOptions()));

        Assert.Contains("class 'roses' has 1 photo", error.Message);
        Assert.Contains("class 'tulips' has 2 photos but they are all copies of one photo", error.Message);
        Assert.DoesNotContain("'daisy'", error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_test_fraction_outside_zero_to_one_is_refused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(
            () => DatasetSplitter.Split(FiveClasses, Photos(FiveClasses, 5), new SplitOptions(fraction)));

    [Fact]
    public void The_manifest_round_trips_through_json()
    {
        var photos = Photos(["daisy", "roses"], 30);
        photos.Add(("daisy", "twin.jpg", "twin"));
        photos.Add(("roses", "twin.jpg", "twin"));
        var manifest = DatasetSplitter.Split(["roses", "daisy"], photos, new SplitOptions(0.25, 99));

        var json = manifest.ToJson();
        var back = SplitManifest.FromJson(json);

        Assert.Equal(manifest.Classes, back.Classes);
        Assert.Equal(manifest.Entries, back.Entries);
        Assert.Equal(manifest.Options, back.Options);
        Assert.Equal(manifest.Skipped, back.Skipped);
        Assert.Equal(2, back.Skipped.Count);
        Assert.Contains("\"side\": \"test\"", json);
        Assert.Contains("\"testFraction\": 0.25", json);
    }
}
