using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flowers.Report;

namespace Flowers.Tests.Report;

/// <summary>
/// Opens report.html in headless Chromium as a person would: every picture decodes, the metrics table is
/// there, and the page is not blank. Set FLOWERS_REPORT_KEEP=folder to keep the files and screenshots.
/// </summary>
public class ReportInBrowserTests
{
    // Appended to a copy of the page: the report itself carries no script.
    private const string Probe = """
        <script>
        addEventListener('load', () => {
          const images = [...document.images];
          const result = {
            images: images.length,
            broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
            metricsRows: document.querySelectorAll('table#metrics tbody tr').length,
            perClassRows: document.querySelectorAll('table#per-class tbody tr').length,
            pageWidth: document.documentElement.scrollWidth,
          };
          const out = document.createElement('pre');
          out.id = 'probe-result';
          out.textContent = JSON.stringify(result);
          document.body.appendChild(out);
        });
        </script>
        """;

    [SkippableFact]
    public void Report_of_a_small_synthetic_run_loads_in_chromium_with_every_picture_decoded()
    {
        var chromium = HeadlessChromium.Locate();
        var input = ColourCentroidRun.Build(ColourCentroidRun.SyntheticPhotos(), "Synthetic flowers: nearest mean colour");
        CheckInBrowser(chromium, input, "synthetic");
    }

    [SkippableFact]
    public void Report_of_a_small_run_on_real_flower_photos_loads_in_chromium()
    {
        string? dataset = Flowers128();
        Skip.If(dataset is null, "flowers128 not found: set FLOWERS_DATASET_DIR or place it at ../shared/datasets/flowers128");
        var chromium = HeadlessChromium.Locate();
        var input = ColourCentroidRun.Build(ColourCentroidRun.FolderPhotos(dataset!, perClass: 25), "flowers128 subset: nearest mean colour");
        Assert.NotEmpty(input.Metrics.Misclassified);
        CheckInBrowser(chromium, input, "flowers128");
    }

    private static void CheckInBrowser(HeadlessChromium chromium, ReportInput input, string runName)
    {
        var directory = Directory.CreateTempSubdirectory("flowers-report-");
        try
        {
            var files = RunReport.Render(input);
            foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(directory.FullName, name), bytes);
            string page = Path.Combine(directory.FullName, RunReport.PageFile);
            string probe = Path.Combine(directory.FullName, "probe.html");
            File.WriteAllText(probe, File.ReadAllText(page).Replace("</body>", Probe + "</body>"));

            string dom = chromium.DumpDom(probe);
            var match = Regex.Match(dom, "<pre id=\"probe-result\">(.*?)</pre>", RegexOptions.Singleline);
            Assert.True(match.Success, "the page did not finish loading: " + dom[..Math.Min(500, dom.Length)]);
            using var result = JsonDocument.Parse(WebUtility.HtmlDecode(match.Groups[1].Value));
            var root = result.RootElement;
            Assert.Equal(3, root.GetProperty("images").GetInt32());
            Assert.Empty(root.GetProperty("broken").EnumerateArray());
            Assert.Equal(3, root.GetProperty("metricsRows").GetInt32());
            Assert.Equal(input.Metrics.Classes.Count, root.GetProperty("perClassRows").GetInt32());

            string screenshot = Path.Combine(directory.FullName, "screenshot.png");
            chromium.Screenshot(page, screenshot, 1280, 2400);
            using var bitmap = Pixels.Decode(File.ReadAllBytes(screenshot));
            Assert.Equal((1280, 2400), (bitmap.Width, bitmap.Height));
            Assert.True(Pixels.Distinct(bitmap) > 200, "the screenshot looks blank");
            Assert.InRange(Pixels.NonWhiteShare(bitmap), 0.05, 0.95);
            if (Environment.GetEnvironmentVariable("FLOWERS_REPORT_KEEP") is { Length: > 0 } keep)
            {
                string target = Directory.CreateDirectory(Path.Combine(keep, runName)).FullName;
                foreach (var file in Directory.GetFiles(directory.FullName).Where(f => !f.EndsWith("probe.html")))
                    File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string? Flowers128()
    {
        if (Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR") is { Length: > 0 } configured)
            return Directory.Exists(configured) ? configured : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln")))
            {
                string candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets", "flowers128"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        return null;
    }
}
