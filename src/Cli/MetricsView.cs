using System.Globalization;
using Flowers.Evaluate;
using Flowers.Report;
using Flowers.Runs;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>The end of `flowers train` in the terminal: accuracy, a per-class table, the confusion matrix.</summary>
public static class MetricsView
{
    public static void Write(IAnsiConsole console, InProcessRunResult result) =>
        Write(console, result.Metrics, result.Package.ModelId, result.PackagePath, result.MetricsPath);

    public static void Write(IAnsiConsole console, RunMetrics m, string modelId, string packagePath, string metricsPath)
    {
        console.WriteLine();
        console.MarkupLine(
            $"[bold]Test accuracy {Percent(m.Accuracy)}[/] (macro {Percent(m.MacroAccuracy)}, log-loss {m.LogLoss.ToString("0.000", CultureInfo.InvariantCulture)}) " +
            $"on {m.TestCount} test photos; trained on {m.TrainCount} with {Markup.Escape(m.Trainer)} over {Markup.Escape(m.Featurizer)} features.");
        if (m.HyperParameters is { Candidates.Count: > 0 } h)
            console.MarkupLine(FormattableString.Invariant(
                $"Head {Markup.Escape(h.Chosen.ToString())}, chosen by {h.Folds}-fold cross-validation on the training photos from {h.Candidates.Count} candidates (validation accuracy {Percent(h.Candidates.Max(c => c.Accuracy))})."));

        var perClass = new Table().Title("Per class").AddColumns("class", "precision", "recall", "F1", "support");
        foreach (var c in m.PerClass)
            perClass.AddRow(Markup.Escape(c.Label), Percent(c.Precision), Percent(c.Recall), Percent(c.F1), c.Support.ToString(CultureInfo.InvariantCulture));
        for (var i = 1; i < perClass.Columns.Count; i++) perClass.Columns[i].RightAligned();
        console.Write(perClass);

        var confusion = new Table().Title("Confusion matrix (rows = actual, columns = predicted)").AddColumn("actual \\ predicted");
        foreach (var c in m.Classes) confusion.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        for (var a = 0; a < m.Classes.Count; a++)
        {
            var cells = new List<string> { Markup.Escape(m.Classes[a]) };
            for (var p = 0; p < m.Classes.Count; p++)
            {
                var count = m.ConfusionMatrix[a][p].ToString(CultureInfo.InvariantCulture);
                cells.Add(a == p ? $"[green]{count}[/]" : m.ConfusionMatrix[a][p] > 0 ? $"[yellow]{count}[/]" : count);
            }
            confusion.AddRow(cells.ToArray());
        }
        console.Write(confusion);

        if (m.Misclassified.Count > 0)
        {
            var worst = m.Misclassified[0];
            console.MarkupLine($"Most confident mistake: {Markup.Escape(worst.Image)} taken for {Markup.Escape(worst.Predicted)} ({Percent(worst.Confidence)}).");
        }
        if (m.Skipped.Count > 0)
            console.MarkupLine($"[yellow]Skipped {m.Skipped.Count} photo(s)[/], e.g. {Markup.Escape(m.Skipped[0].Image)}: {Markup.Escape(m.Skipped[0].Reason)} (all in metrics.json).");
        var t = m.Timings;
        console.MarkupLine(FormattableString.Invariant(
            $"Time: acquire {t.AcquireSeconds:0.0} s, featurize {t.FeaturizeSeconds:0.0} s ({m.FeaturizeImagesPerSecond:0.#} photos/s), train {t.TrainSeconds:0.0} s, total {t.TotalSeconds:0.0} s."));
        console.MarkupLine($"Model {Markup.Escape(modelId)}: {Markup.Escape(packagePath)}");
        console.MarkupLine($"Metrics: {Markup.Escape(metricsPath)}");
        // Both ways of training leave the report beside metrics.json (in-process writes it, the pipeline's is downloaded).
        var report = Path.Combine(Path.GetDirectoryName(metricsPath) ?? ".", RunReport.PageFile);
        if (File.Exists(report)) console.MarkupLine($"Report: {Markup.Escape(report)}");
    }

    private static string Percent(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
