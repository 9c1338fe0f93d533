using System.Text.RegularExpressions;
using System.Text;
using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Report;

namespace Flowers.Tests.Report;

public class RunReportTests
{
    private static readonly ReportInput SyntheticRun =
        ColourCentroidRun.Build(ColourCentroidRun.SyntheticPhotos(), "Synthetic flowers");

    [Fact]
    public void Renders_three_pictures_of_sensible_size_and_a_page()
    {
        var files = RunReport.Render(SyntheticRun);
        Assert.Equal(["confusion.png", "misclassified.jpg", "preview.jpg", "report.html"], files.Keys.Order());
        foreach (var name in new[] { RunReport.PreviewFile, RunReport.ConfusionFile, RunReport.MisclassifiedFile })
        {
            using var bitmap = Pixels.Decode(files[name]);
            Assert.InRange(bitmap.Width, 400, 2000);
            Assert.InRange(bitmap.Height, 200, 4000);
            Assert.True(Pixels.Distinct(bitmap) > 50, $"{name} looks blank");
            Assert.InRange(Pixels.NonWhiteShare(bitmap), 0.05, 0.98);
        }
    }

    [Fact]
    public void Page_is_self_contained_and_embeds_the_three_pictures()
    {
        var files = RunReport.Render(SyntheticRun);
        string html = Encoding.UTF8.GetString(files[RunReport.PageFile]);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*""(?!data:)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("@import", html);
        var embedded = Regex.Matches(html, @"src=""data:image/(?:png|jpeg);base64,([^""]+)""").Select(m => Convert.FromBase64String(m.Groups[1].Value)).ToList();
        Assert.Equal(3, embedded.Count);
        Assert.Contains(embedded, png => png.AsSpan().SequenceEqual(files[RunReport.ConfusionFile]));
        Assert.Contains(embedded, png => png.AsSpan().SequenceEqual(files[RunReport.PreviewFile]));
        Assert.Contains(embedded, png => png.AsSpan().SequenceEqual(files[RunReport.MisclassifiedFile]));
    }

    [Fact]
    public void Page_shows_metrics_per_class_counts_settings_and_every_misclassified_photo()
    {
        var m = SyntheticRun.Metrics;
        Assert.NotEmpty(m.Misclassified);   // the synthetic classes overlap on purpose
        string html = Encoding.UTF8.GetString(RunReport.Render(SyntheticRun)[RunReport.PageFile]);

        var metrics = Table(html, "metrics");
        Assert.Contains(FormattableString.Invariant($"{m.Accuracy * 100:0.0}%"), metrics);
        Assert.Contains(FormattableString.Invariant($"{m.MacroAccuracy * 100:0.0}%"), metrics);
        Assert.Contains(m.LogLoss.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), metrics);

        var perClass = Table(html, "per-class");
        Assert.Equal(m.Classes.Count, Rows(perClass));
        foreach (var c in m.PerClass) Assert.Contains($"<td>{c.Label}</td>", perClass);

        var counts = Table(html, "counts");
        Assert.Equal(m.Classes.Count, Rows(counts));
        Assert.Contains($"<th class=\"num\">{m.TrainCount}</th><th class=\"num\">{m.TestCount}</th><th class=\"num\">1</th>", counts);
        Assert.Contains("rose/broken.jpg", Table(html, "skipped"));

        var wrong = Table(html, "misclassified");
        Assert.Equal(m.Misclassified.Count, Rows(wrong));
        Assert.All(m.Misclassified, w => Assert.Contains(w.Image, wrong));
        Assert.Contains("<th>seed</th><td>2018</td>", Table(html, "settings"));
        Assert.Contains("1.7", Table(html, "timings"));
        Assert.DoesNotContain("id=\"comparison\"", html);
    }

    [Fact]
    public void Everything_taken_from_data_is_html_escaped()
    {
        const string evil = "<img src=x onerror=alert(1)>&\"";
        var m = SyntheticRun.Metrics;
        var renamed = m with
        {
            Classes = m.Classes.Select((c, i) => i == 0 ? evil : c).ToList(),
            PerClass = m.PerClass.Select((c, i) => i == 0 ? c with { Label = evil } : c).ToList(),
            Misclassified = [new Misclassification($"{evil}/{evil}.jpg", evil, "rose", 0.99)],
            Skipped = [new SkippedPhoto($"{evil}/x.jpg", evil)],
        };
        var input = SyntheticRun with
        {
            Metrics = renamed,
            Title = evil,
            Settings = new Dictionary<string, string> { [evil] = evil },
            Counts = [new ClassCounts(evil, 1, 1, 1)],
            Published = renamed,
            PublishedModelId = evil,
        };
        string html = Encoding.UTF8.GetString(RunReport.Render(input)[RunReport.PageFile]);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("onerror=alert(1)>", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;", html);
    }

    [Fact]
    public void Page_compares_with_the_published_model_when_there_is_one()
    {
        var m = SyntheticRun.Metrics;
        var published = m with { Accuracy = m.Accuracy - 0.025, MacroAccuracy = m.MacroAccuracy + 0.01, LogLoss = m.LogLoss + 0.2 };
        var input = SyntheticRun with { Published = published, PublishedModelId = "flowers-20261101-abc" };
        string html = Encoding.UTF8.GetString(RunReport.Render(input)[RunReport.PageFile]);

        Assert.Matches(@"This run is 2\.5 points more accurate than the published model <code>flowers-20261101-abc</code>", html);
        var comparison = Table(html, "comparison");
        Assert.Contains("<td class=\"num better\">+2.5 pts</td>", comparison);           // accuracy up
        Assert.Contains("<td class=\"num worse\">−1.0 pts</td>", comparison);            // macro accuracy down
        Assert.Contains("<td class=\"num better\">−0.200</td>", comparison);             // log-loss down is better
    }

    private static string Table(string html, string id)
    {
        var match = Regex.Match(html, $"<table id=\"{id}\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(match.Success, $"table #{id} missing");
        return match.Groups[1].Value;
    }

    private static int Rows(string table)
    {
        var body = Regex.Match(table, "<tbody>(.*?)</tbody>", RegexOptions.Singleline).Groups[1].Value;
        return Regex.Matches(body, "<tr>").Count;
    }
}
