using System.Text.Json;
using Flowers.Acquire;
using Flowers.Classify;
using Flowers.Evaluate;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Report;
using Flowers.Runs;
using Flowers.Testing;
using Flowers.Tests.Report;

namespace Flowers.Tests.Runs;

public class InProcessRunTests
{
    /// <summary>Small network input: the synthetic photos need no more, and the tests stay quick.</summary>
    internal static readonly FeaturizerOptions SmallFeaturizer = new() { InputSize = 128 };

    internal static RunOptions Options(TempFolder folder, string dataset) => new()
    {
        Dataset = dataset,
        OutputDirectory = folder["out"],
        Featurizer = SmallFeaturizer,
        ChooseInputSize = false,
        Acquire = new AcquireOptions { CacheDirectory = folder["cache"] },
    };

    private sealed class Recorder : IProgress<StageProgress>
    {
        public List<StageProgress> Reports { get; } = [];
        public void Report(StageProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public async Task End_to_end_on_synthetic_photos_writes_metrics_and_a_working_model_and_reruns_from_the_cache()
    {
        using var folder = new TempFolder();
        var dataset = SyntheticPhotos.WriteFolder(folder["photos"], perClass: 10, seed: 1000, broken: true);
        var progress = new Recorder();

        var result = await new InProcessRun().RunAsync(Options(folder, dataset), progress);

        // metrics.json: every field of the contract, camelCase, and sensible values
        var json = JsonDocument.Parse(File.ReadAllText(folder["out/metrics.json"])).RootElement;
        string[] fields = ["accuracy", "macroAccuracy", "logLoss", "classes", "confusionMatrix", "confusionMatrixNormalized", "perClass",
            "misclassified", "trainCount", "testCount", "skipped", "featurizer", "trainer", "timings", "featurizeImagesPerSecond"];
        foreach (var field in fields) Assert.True(json.TryGetProperty(field, out _), $"metrics.json lacks {field}");
        foreach (var field in new[] { "acquireSeconds", "featurizeSeconds", "trainSeconds", "totalSeconds" })
            Assert.True(json.GetProperty("timings").TryGetProperty(field, out _), $"metrics.json lacks timings.{field}");
        var metrics = RunMetrics.FromJson(File.ReadAllText(result.MetricsPath));
        Assert.Equal(SyntheticPhotos.Classes, metrics.Classes);
        Assert.Equal(30, metrics.TrainCount + metrics.TestCount);
        Assert.InRange(metrics.Accuracy, 0.8, 1.0); // distinct colours and shapes; 3 classes
        Assert.Equal(metrics.TestCount, metrics.ConfusionMatrix.Sum(r => r.Sum()));
        Assert.Equal("lbfgs", metrics.Trainer);
        Assert.Equal(SmallFeaturizer.Id, metrics.Featurizer);
        Assert.Contains(metrics.Skipped, s => s.Image == "circle/broken.jpg" && s.Reason.Length > 0);
        Assert.True(metrics.FeaturizeImagesPerSecond > 0);
        Assert.Contains(progress.Reports, r => r.Stage == TrainingStages.Featurize && r.Done == r.Total);
        Assert.Equal(TrainingStages.Train, progress.Reports[^1].Stage);

        // The run report beside metrics.json: three pictures and a page that states what the run measured.
        Assert.Equal(folder["out/report.html"], result.ReportPath);
        foreach (var picture in new[] { RunReport.PreviewFile, RunReport.ConfusionFile, RunReport.MisclassifiedFile })
        {
            using var bitmap = Pixels.Decode(File.ReadAllBytes(folder[$"out/{picture}"]));
            Assert.True(Pixels.Distinct(bitmap) > 50, $"{picture} looks blank");
            if (picture == RunReport.PreviewFile) // the sample photos were read: their red, green and blue shapes show
                Assert.True(Pixels.Count(bitmap, new SkiaSharp.SKRectI(0, 0, bitmap.Width, bitmap.Height), c => Pixels.Saturation(c) > 0.6) > 3000);
        }
        var html = File.ReadAllText(result.ReportPath);
        Assert.Contains(FormattableString.Invariant($"Test accuracy <strong>{metrics.Accuracy * 100:0.0}%</strong>"), html);
        Assert.Contains($"<tr><th>model</th><td>{result.Package.ModelId}</td></tr>", html);
        Assert.Contains("<tr><th>split seed</th><td>2018</td></tr>", html);
        Assert.Contains(FormattableString.Invariant(
            $"<th>all</th><th class=\"num\">{metrics.TrainCount}</th><th class=\"num\">{metrics.TestCount}</th><th class=\"num\">{metrics.Skipped.Count}</th>"), html);
        Assert.Contains("circle/broken.jpg", html);
        Assert.DoesNotContain("id=\"comparison\"", html); // no registry locally

        // model.flowers loads and labels photos it never saw
        using (var classifier = PhotoClassifier.Open(result.PackagePath))
        {
            Assert.Equal(result.Package.ModelId, classifier.ModelId);
            Assert.Equal(metrics.Accuracy, classifier.Package.Manifest.Metrics.Accuracy);
            foreach (var cls in SyntheticPhotos.Classes)
            {
                var label = classifier.Classify(SyntheticPhotos.Jpeg(cls, 77_000 + cls.Length));
                Assert.Equal(cls, label.Label);
                Assert.Equal(1.0, label.Probabilities.Values.Sum(), 3);
            }
        }

        // A second run with the same cache featurizes nothing.
        var again = await new InProcessRun().RunAsync(Options(folder, dataset) with { OutputDirectory = folder["out2"] });
        Assert.Equal(0, again.Metrics.FeaturizeImagesPerSecond);
        Assert.Equal(metrics.Accuracy, again.Metrics.Accuracy);
        Assert.Contains(again.Metrics.Skipped, s => s.Image == "circle/broken.jpg");
    }

    [Fact]
    public async Task A_wrong_trainer_option_fails_before_any_work()
    {
        using var folder = new TempFolder();
        var options = Options(folder, folder["nowhere"]) with { Trainer = new() { Trainer = "svm" } };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new InProcessRun().RunAsync(options));
        Assert.Contains("svm", e.Message);
    }

    [Fact]
    public async Task A_missing_data_set_is_a_clear_error()
    {
        using var folder = new TempFolder();
        var e = await Assert.ThrowsAsync<DatasetUnavailableException>(() => new InProcessRun().RunAsync(Options(folder, folder["nowhere"])));
        Assert.Contains("--dataset", e.Message);
        Assert.False(File.Exists(folder["out/metrics.json"]));
    }
}
