using System.Diagnostics;

namespace Flowers.Tests.Report;

/// <summary>Debian's chromium run headless as a one-shot command: dump a page's DOM, or screenshot it.</summary>
internal sealed class HeadlessChromium(string executable)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Chromium at $CHROMIUM or /usr/bin/chromium. Missing: a skip on a developer's machine, a
    /// failure on CI (CI=true), where .ci/run installs it.</summary>
    public static HeadlessChromium Locate()
    {
        string path = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } custom ? custom : "/usr/bin/chromium";
        if (File.Exists(path)) return new HeadlessChromium(path);
        string message = $"Chromium not found at {path}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(message + " (.ci/run should have installed it)");
        Skip.If(true, message);
        throw new UnreachableException();
    }

    /// <summary>The DOM after the load event (and its handlers) ran.</summary>
    public string DumpDom(string htmlFile) => Run("--dump-dom", new Uri(htmlFile).AbsoluteUri);

    public void Screenshot(string htmlFile, string pngFile, int width, int height) =>
        Run($"--screenshot={pngFile}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(htmlFile).AbsoluteUri);

    private string Run(params string[] arguments)
    {
        string profile = Directory.CreateTempSubdirectory("flowers-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // Without the networking flags chromium keeps calling Google's hosts, refused on a closed network.
            foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", $"--user-data-dir={profile}" }.Concat(arguments))
                start.ArgumentList.Add(flag);
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
            }
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"chromium exited with {process.ExitCode}: {Tail(stderr.Result)}");
            return stdout.Result;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { /* chromium may still be flushing its profile */ }
        }
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];
}
