using Flowers.Runs;
using Xunit.Abstractions;

namespace Flowers.Tests.Runs;

/// <summary>The whole run on real flower photos, when the data set is on this machine.</summary>
public class RealPhotoTrainingTests(ITestOutputHelper output)
{
    /// <summary>../shared/datasets/flowers128 beside the repository, or $FLOWERS_DATASET_DIR.</summary>
    internal static string? Flowers128()
    {
        var configured = Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR");
        if (!string.IsNullOrEmpty(configured)) return Directory.Exists(configured) ? configured : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets", "flowers128"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        return null;
    }

    [SkippableFact]
    public async Task Forty_photos_per_class_of_flowers128_train_well_above_chance()
    {
        var source = Flowers128();
        Skip.If(source is null, "flowers128 not found (set FLOWERS_DATASET_DIR or put it at ../shared/datasets/flowers128)");

        using var folder = new TempFolder();
        foreach (var classDir in Directory.GetDirectories(source!))
        {
            var target = Directory.CreateDirectory(folder[Path.Combine("photos", Path.GetFileName(classDir))]).FullName;
            foreach (var photo in Directory.GetFiles(classDir, "*.jpg").Order(StringComparer.Ordinal).Take(40))
                File.Copy(photo, Path.Combine(target, Path.GetFileName(photo)));
        }

        var result = await new InProcessRun().RunAsync(InProcessRunTests.Options(folder, folder["photos"]) with { Featurizer = new(), ChooseInputSize = true });

        var m = result.Metrics;
        output.WriteLine($"accuracy {m.Accuracy:P1} on {m.TestCount} test photos, trained on {m.TrainCount}; featurize {m.Timings.FeaturizeSeconds} s, train {m.Timings.TrainSeconds} s");
        Assert.Equal(5, m.Classes.Count);
        Assert.Equal(200, m.TrainCount + m.TestCount + m.Skipped.Count);
        Assert.InRange(m.Accuracy, 0.5, 1.0); // chance is 0.2
        Assert.Equal(160, m.InputSize?.Chosen); // the photos are 128 px
    }
}
