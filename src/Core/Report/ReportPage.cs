using System.Globalization;
using System.Net;
using System.Text;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Train;
using SkiaSharp;

namespace Flowers.Report;

/// <summary>
/// report.html: one self-contained page (pictures as data: URIs, styles inline, no scripts, no external
/// fonts) that opens anywhere, including from a blob download. Everything taken from data is HTML-escaped.
/// </summary>
internal static class ReportPage
{
    public static string Render(ReportInput input, byte[] preview, byte[] confusion, byte[] misclassified, int misclassifiedPictured)
    {
        var m = input.Metrics;
        var html = new StringBuilder();
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(input.Title)}</title>
            <style>{Style}</style>
            </head>
            <body>
            <h1>{E(input.Title)}</h1>
            <p class="lead">Test accuracy <strong>{Percent(m.Accuracy)}</strong> on {Count(m.TestCount)} held-out photos
            ({Count(m.TrainCount)} for training, {Count(m.Skipped.Count)} skipped). Features: {E(m.Featurizer)}; classifier: {E(m.Trainer)}.</p>

            """);

        if (input.Published is not null) AppendComparison(html, m, input.Published, input.PublishedModelId);

        html.Append("<h2>Metrics</h2>\n<table id=\"metrics\">\n<thead><tr><th>metric</th><th class=\"num\">value</th><th>meaning</th></tr></thead>\n<tbody>\n");
        Row(html, "accuracy", Percent(m.Accuracy), "share of test photos labelled right");
        Row(html, "macro accuracy", Percent(m.MacroAccuracy), "mean of per-class recall: each class counts the same");
        Row(html, "log-loss", Fixed(m.LogLoss, "0.000"), "mean −ln(probability given to the true class); lower is better");
        html.Append("</tbody>\n</table>\n");

        html.Append("<h2>Per class</h2>\n<table id=\"per-class\">\n<thead><tr><th>class</th><th class=\"num\">precision</th><th class=\"num\">recall</th><th class=\"num\">F1</th><th class=\"num\">support</th></tr></thead>\n<tbody>\n");
        foreach (var c in m.PerClass)
            html.Append($"<tr><td>{E(c.Label)}</td><td class=\"num\">{Percent(c.Precision)}</td><td class=\"num\">{Percent(c.Recall)}</td><td class=\"num\">{Percent(c.F1)}</td><td class=\"num\">{Count(c.Support)}</td></tr>\n");
        html.Append("</tbody>\n</table>\n");

        html.Append($"""
            <h2>Confusion matrix</h2>
            {Figure(confusion, "Row-normalised confusion matrix", "Each row is a true class and sums to 1; the diagonal is the share labelled right.")}
            <h2>Misclassified test photos</h2>
            {Figure(misclassified, "Misclassified test photos", misclassifiedPictured < m.Misclassified.Count
                ? $"The {misclassifiedPictured} most confident mistakes; all {Count(m.Misclassified.Count)} are listed below."
                : "Most confident mistakes first.")}

            """);
        AppendMisclassifiedList(html, m);

        html.Append($"""
            <h2>Data set</h2>
            {Figure(preview, "Sample photos per class", "A few photos of each class as the run read them.")}

            """);
        AppendCounts(html, input.Counts);
        AppendSkipped(html, m.Skipped);

        html.Append("<h2>Settings</h2>\n<table id=\"settings\">\n<tbody>\n");
        foreach (var (name, value) in input.Settings)
            html.Append($"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>\n");
        html.Append($"<tr><th>featurizer</th><td>{E(m.Featurizer)}</td></tr>\n<tr><th>trainer</th><td>{E(m.Trainer)}</td></tr>\n");
        if (m.InputSize is { } size) html.Append($"<tr><th>input size</th><td id=\"input-size\">{E(size.ToString())}</td></tr>\n");
        html.Append("</tbody>\n</table>\n");
        AppendHyperParameters(html, m.HyperParameters);

        var t = m.Timings;
        html.Append("<h2>Timings</h2>\n<table id=\"timings\">\n<thead><tr><th>stage</th><th class=\"num\">seconds</th></tr></thead>\n<tbody>\n");
        Row(html, "acquire", Fixed(t.AcquireSeconds, "0.0"));
        Row(html, "featurize", Fixed(t.FeaturizeSeconds, "0.0") + $" <span class=\"muted\">({Fixed(m.FeaturizeImagesPerSecond, "0.0")} photos/s)</span>", raw: true);
        Row(html, "train", Fixed(t.TrainSeconds, "0.0"));
        Row(html, "total", Fixed(t.TotalSeconds, "0.0"));
        html.Append("</tbody>\n</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendComparison(StringBuilder html, RunMetrics run, RunMetrics published, string? publishedId)
    {
        string who = publishedId is null ? "the published model" : $"the published model <code>{E(publishedId)}</code>";
        double delta = run.Accuracy - published.Accuracy;
        string verdict = Math.Abs(delta) < 0.0005 ? "as accurate as"
            : delta > 0 ? $"{Points(delta)} points more accurate than" : $"{Points(-delta)} points less accurate than";
        html.Append($"<h2>Compared with the published model</h2>\n<p id=\"verdict\">This run is {verdict} {who}.");
        if (!run.Classes.SequenceEqual(published.Classes))
            html.Append($" Note: the classes differ (published: {E(string.Join(", ", published.Classes))}).");
        html.Append(" Each was measured on the test photos of its own run.</p>\n");

        html.Append("<table id=\"comparison\">\n<thead><tr><th>metric</th><th class=\"num\">this run</th><th class=\"num\">published</th><th class=\"num\">change</th></tr></thead>\n<tbody>\n");
        CompareRow(html, "accuracy", run.Accuracy, published.Accuracy, Percent, higherIsBetter: true, points: true);
        CompareRow(html, "macro accuracy", run.MacroAccuracy, published.MacroAccuracy, Percent, higherIsBetter: true, points: true);
        CompareRow(html, "log-loss", run.LogLoss, published.LogLoss, v => Fixed(v, "0.000"), higherIsBetter: false, points: false);
        foreach (var c in run.PerClass)
        {
            var old = published.PerClass.FirstOrDefault(p => p.Label == c.Label);
            if (old is not null)
                CompareRow(html, $"F1 {c.Label}", c.F1, old.F1, Percent, higherIsBetter: true, points: true);
        }
        html.Append($"<tr><td>test photos</td><td class=\"num\">{Count(run.TestCount)}</td><td class=\"num\">{Count(published.TestCount)}</td><td></td></tr>\n");
        html.Append("</tbody>\n</table>\n");
    }

    private static void CompareRow(StringBuilder html, string name, double run, double published, Func<double, string> format,
        bool higherIsBetter, bool points)
    {
        double delta = run - published;
        string change = points ? $"{(delta >= 0 ? "+" : "−")}{Points(Math.Abs(delta))} pts" : $"{(delta >= 0 ? "+" : "−")}{Fixed(Math.Abs(delta), "0.000")}";
        string tone = Math.Abs(delta) < 1e-9 ? "" : (delta > 0) == higherIsBetter ? "better" : "worse";
        html.Append($"<tr><td>{E(name)}</td><td class=\"num\">{format(run)}</td><td class=\"num\">{format(published)}</td><td class=\"num {tone}\">{change}</td></tr>\n");
    }

    /// <summary>Why the head has the L2 it has: every candidate's validation score, the chosen one marked.</summary>
    private static void AppendHyperParameters(StringBuilder html, HyperParameterChoice? choice)
    {
        if (choice is null) return;
        html.Append("<h2>Chosen on the training photos</h2>\n");
        if (choice.Candidates.Count == 0) { html.Append($"<p id=\"hyper-parameters\">{E(choice.Chosen.ToString())}: {E(choice.Rule)}.</p>\n"); return; }
        html.Append($"<p>The head's settings by {choice.Folds}-fold cross-validation on the training photos (the test photos take no part): {E(choice.Rule)}.</p>\n");
        html.Append("<table id=\"hyper-parameters\">\n<thead><tr><th>features</th><th class=\"num\">L2</th><th class=\"num\">validation accuracy</th><th class=\"num\">validation log-loss</th><th></th></tr></thead>\n<tbody>\n");
        foreach (var c in choice.Candidates)
            html.Append($"<tr><td>{(c.Normalize ? "standardised" : "as normalised")}</td><td class=\"num\">{Fixed(c.L2, "0.###")}</td><td class=\"num\">{Fixed(c.Accuracy * 100, "0.0")}%</td><td class=\"num\">{Fixed(c.LogLoss, "0.000")}</td>"
                + $"<td>{(new HeadCandidate(c.Normalize, c.L2) == choice.Chosen ? "chosen" : "")}</td></tr>\n");
        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendMisclassifiedList(StringBuilder html, RunMetrics m)
    {
        if (m.Misclassified.Count == 0) { html.Append("<p>No test photo was misclassified.</p>\n"); return; }
        html.Append("<table id=\"misclassified\">\n<thead><tr><th class=\"num\">#</th><th>photo</th><th>true</th><th>predicted</th><th class=\"num\">confidence</th></tr></thead>\n<tbody>\n");
        int i = 0;
        foreach (var w in PhotoGrid.WorstFirst(m.Misclassified))
            html.Append($"<tr><td class=\"num\">{++i}</td><td><code>{E(w.Image)}</code></td><td>{E(w.Actual)}</td><td>{E(w.Predicted)}</td><td class=\"num\">{Percent(w.Confidence)}</td></tr>\n");
        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendCounts(StringBuilder html, IReadOnlyList<ClassCounts> counts)
    {
        html.Append("<table id=\"counts\">\n<thead><tr><th>class</th><th class=\"num\">train</th><th class=\"num\">test</th><th class=\"num\">skipped</th><th class=\"num\">total</th></tr></thead>\n<tbody>\n");
        foreach (var c in counts)
            html.Append($"<tr><td>{E(c.Class)}</td><td class=\"num\">{Count(c.Train)}</td><td class=\"num\">{Count(c.Test)}</td><td class=\"num\">{Count(c.Skipped)}</td><td class=\"num\">{Count(c.Total)}</td></tr>\n");
        html.Append($"</tbody>\n<tfoot><tr><th>all</th><th class=\"num\">{Count(counts.Sum(c => c.Train))}</th><th class=\"num\">{Count(counts.Sum(c => c.Test))}</th><th class=\"num\">{Count(counts.Sum(c => c.Skipped))}</th><th class=\"num\">{Count(counts.Sum(c => c.Total))}</th></tr></tfoot>\n</table>\n");
    }

    private static void AppendSkipped(StringBuilder html, IReadOnlyList<SkippedPhoto> skipped)
    {
        if (skipped.Count == 0) return;
        html.Append($"<details open><summary>{Count(skipped.Count)} skipped photos</summary>\n<table id=\"skipped\">\n<thead><tr><th>photo</th><th>reason</th></tr></thead>\n<tbody>\n");
        foreach (var s in skipped)
            html.Append($"<tr><td><code>{E(s.Image)}</code></td><td>{E(s.Reason)}</td></tr>\n");
        html.Append("</tbody>\n</table>\n</details>\n");
    }

    /// <param name="picture">A PNG (the chart) or a JPEG (the photo grids).</param>
    private static string Figure(byte[] picture, string alt, string caption)
    {
        // Width and height from the picture's header, so the page lays out before the pictures decode.
        using var data = SKData.CreateCopy(picture);
        using var codec = SKCodec.Create(data) ?? throw new ArgumentException($"the picture for '{alt}' is neither a PNG nor a JPEG", nameof(picture));
        var type = codec.EncodedFormat == SKEncodedImageFormat.Png ? "image/png" : "image/jpeg";
        return $"<figure><img src=\"data:{type};base64,{Convert.ToBase64String(picture)}\" alt=\"{E(alt)}\" width=\"{codec.Info.Width}\" height=\"{codec.Info.Height}\"><figcaption>{E(caption)}</figcaption></figure>";
    }

    private static void Row(StringBuilder html, string name, string value, string? meaning = null, bool raw = false) =>
        html.Append($"<tr><td>{E(name)}</td><td class=\"num\">{(raw ? value : E(value))}</td>{(meaning is null ? "" : $"<td>{E(meaning)}</td>")}</tr>\n");

    private static string E(string text) => WebUtility.HtmlEncode(text);
    private static string Percent(double v) => (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    private static string Points(double v) => (v * 100).ToString("0.0", CultureInfo.InvariantCulture);
    private static string Fixed(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
    private static string Count(int v) => v.ToString("#,0", CultureInfo.InvariantCulture);

    private const string Style = """

        body { font-family: system-ui, "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111827;
               max-width: 1100px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
        h1 { font-size: 1.7rem; margin-bottom: .3rem; }
        h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .25rem; }
        .lead { font-size: 1.05rem; color: #374151; }
        table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem; }
        th, td { text-align: left; padding: .3rem .75rem; border-bottom: 1px solid #e5e7eb; }
        thead th { background: #f3f4f6; }
        tfoot th { border-top: 2px solid #d1d5db; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        .better { color: #15803d; font-weight: 600; }
        .worse { color: #b91c1c; font-weight: 600; }
        .muted { color: #6b7280; }
        code { font-size: .88em; }
        figure { margin: .8rem 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #e5e7eb; }
        figcaption { color: #6b7280; font-size: .9rem; }
        details summary { cursor: pointer; margin: .6rem 0 .3rem; }

        """;
}
