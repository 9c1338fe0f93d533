using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Report;
using Flowers.Split;
using Flowers.Train;

namespace Flowers.Tests.Report;

/// <summary>What the CLI and the pipeline both hand the report: settings in words, counts per class, which photos to read.</summary>
public class ReportSourcesTests
{
    [Fact]
    public void Settings_name_the_split_and_only_the_options_the_trainer_reads()
    {
        var linear = ReportSettings.Describe("m-1", "datasets/flowers", new SplitOptions(0.25, 7), new FeaturizerOptions(), new TrainerOptions { L2 = 30 });
        Assert.Equal(["model", "data set", "test fraction", "split seed", "featurizer options", "trainer options"], linear.Keys);
        Assert.Equal("0.25", linear["test fraction"]);
        Assert.Equal("7", linear["split seed"]);
        Assert.Contains($"inputSize={new FeaturizerOptions().InputSize}", linear["featurizer options"]);
        Assert.DoesNotContain("intraOpThreads", linear["featurizer options"]);
        Assert.Contains("l2=30", linear["trainer options"]);
        Assert.DoesNotContain("numberOfLeaves", linear["trainer options"]);
        Assert.DoesNotContain("trainer=", linear["trainer options"]);

        var trees = ReportSettings.Describe("m-1", "x", new SplitOptions(), new FeaturizerOptions(), new TrainerOptions { Trainer = TrainerOptions.LightGbm });
        Assert.Contains("numberOfLeaves=31", trees["trainer options"]);
        Assert.DoesNotContain("l2=", trees["trainer options"]);
        Assert.DoesNotContain("validationFolds=", trees["trainer options"]);
    }

    [Fact]
    public void Counts_follow_the_class_order_and_keep_classes_met_only_among_the_skipped()
    {
        var counts = ClassCounts.Tally(["b", "a"], ["a/1.jpg", "a/2.jpg", "b/1.jpg"], ["a/3.jpg"],
            [new SkippedPhoto("b/x.jpg", "not an image"), new SkippedPhoto("c/y.jpg", "truncated")]);

        Assert.Equal([new ClassCounts("b", 1, 0, 1), new ClassCounts("a", 2, 1, 0), new ClassCounts("c", 0, 0, 1)], counts);
    }

    [Fact]
    public void Samples_are_the_first_photos_of_each_class_by_file_name()
    {
        var images = new[] { "b/9.jpg", "a/3.jpg", "b/1.jpg", "a/1.jpg", "a/2.jpg" };
        Assert.Equal(["b/1.jpg", "b/9.jpg", "a/1.jpg", "a/2.jpg"], SamplePhoto.Choose(images, perClass: 2));
    }
}
