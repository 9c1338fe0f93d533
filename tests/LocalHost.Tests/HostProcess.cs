using System.Collections.Concurrent;
using System.Diagnostics;
using Flowers.Storage;

namespace Flowers.LocalHost.Tests;

/// <summary>
/// The real `flowers host` command as a child process (flowers.dll beside the test), pointed at one storage account
/// by the usual settings, on a port of its own. Keeps the stdout lines that <paramref name="keep"/> selects.
/// Also linked into tests/Reliability.Tests (load test).
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _kept = new();
    private readonly Process _process;

    private HostProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }
    public int ProcessId => _process.Id;

    /// <summary>The stdout lines kept so far.</summary>
    public IReadOnlyCollection<string> Output => _kept;

    /// <param name="verbose">`--verbose`: the host logs every activity and every labelled upload.</param>
    /// <param name="keep">Which stdout lines to keep (none by default: a verbose host writes a lot).</param>
    public static HostProcess Start(string storageConnection, string functionKey, int port, bool verbose = false, Func<string, bool>? keep = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "flowers.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        start.ArgumentList.Add("host");
        if (verbose) start.ArgumentList.Add("--verbose");
        start.Environment[StorageNames.Connection] = storageConnection;
        start.Environment["FLOWERS_HOST_URL"] = $"http://127.0.0.1:{port}";
        start.Environment[FunctionKey.EnvironmentVariable] = functionKey;
        start.Environment["FLOWERS_ROOT"] = Path.GetTempPath();
        var process = Process.Start(start)!;
        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line && keep?.Invoke(line) == true) host._kept.Enqueue(line); };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    public async Task WaitForHealthAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);   // a cold .NET start under load
        while (!await LocalPipeline.IsHealthyAsync(Url.ToString(), CancellationToken.None))
        {
            if (_process.HasExited) throw new InvalidOperationException($"flowers host exited with {_process.ExitCode}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"flowers host did not answer on {Url}");
            await Task.Delay(200);
        }
    }

    /// <summary>The process's peak resident set size so far (VmHWM in /proc/{pid}/status), in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").Single(l => l.StartsWith("VmHWM:"));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;   // "VmHWM:   123456 kB"
    }

    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }   // already gone
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
