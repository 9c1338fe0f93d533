using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Blobs;
using Flowers.Storage;

namespace Flowers.LocalHost;

/// <summary>
/// The real `flowers host` command as a child process (flowers.dll beside the caller: the bench and the tests that
/// reference the CLI), pointed at one storage account by the usual settings, on a port and with a key of its own.
/// Keeps the stdout lines that <c>keep</c> selects, and the last lines it wrote for the message when it fails.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private const int TailLines = 20;
    private readonly ConcurrentQueue<string> _kept = new();
    private readonly Queue<string> _tail = new();
    private readonly Process _process;
    private readonly HttpClient _http;

    private HostProcess(Process process, Uri url, string functionKey, string storageConnection)
    {
        _process = process;
        Url = url;
        _http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
        Client = new PipelineClient(_http, functionKey, new BlobServiceClient(storageConnection));
    }

    public Uri Url { get; }
    public int ProcessId => _process.Id;

    /// <summary>A client of this host, polling as a user's client does.</summary>
    public PipelineClient Client { get; }

    /// <summary>The stdout lines kept so far.</summary>
    public IReadOnlyCollection<string> Output => _kept;

    /// <summary>The last lines the host wrote (stdout and stderr), for the message when it fails.</summary>
    public string OutputTail { get { lock (_tail) return string.Join(Environment.NewLine, _tail); } }

    /// <param name="root">FLOWERS_ROOT of the host: where it looks for .flowers/ and local settings.</param>
    /// <param name="verbose">`--verbose`: the host logs every activity and every labelled upload.</param>
    /// <param name="keep">Which stdout lines to keep (none by default: a verbose host writes a lot).</param>
    /// <param name="cpus">A CPU list (taskset's syntax, "1" or "0,2-3") the host runs on; null: every core.</param>
    public static HostProcess Start(string storageConnection, string functionKey, int port, string root, bool verbose = false, Func<string, bool>? keep = null,
        IReadOnlyDictionary<string, string>? environment = null, string? cpus = null)
    {
        var start = new ProcessStartInfo(cpus is null ? "dotnet" : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Started under the mask rather than pinned afterwards, so .NET and ONNX Runtime size their threads for those
        // cores; taskset execs dotnet in place, so the process id and its CPU times are the host's own.
        if (cpus is not null) foreach (var a in new[] { "-c", cpus, "dotnet" }) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "flowers.dll"));
        start.ArgumentList.Add("host");
        if (verbose) start.ArgumentList.Add("--verbose");
        start.Environment[StorageNames.Connection] = storageConnection;
        start.Environment["FLOWERS_HOST_URL"] = $"http://127.0.0.1:{port}";
        start.Environment[FunctionKey.EnvironmentVariable] = functionKey;
        start.Environment["FLOWERS_ROOT"] = root;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start flowers host");
        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}/"), functionKey, storageConnection);
        process.OutputDataReceived += (_, e) =>
        {
            host.Remember(e.Data);
            if (e.Data is { } line && keep?.Invoke(line) == true) host._kept.Enqueue(line);
        };
        process.ErrorDataReceived += (_, e) => host.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line.Length > 400 ? line[..400] : line);
            while (_tail.Count > TailLines) _tail.Dequeue();
        }
    }

    public async Task WaitForHealthAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);   // a cold .NET start under load
        while (!await LocalPipeline.IsHealthyAsync(Url.ToString(), CancellationToken.None))
        {
            if (_process.HasExited) throw new InvalidOperationException($"flowers host exited with {_process.ExitCode}: {OutputTail}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"flowers host did not answer on {Url}");
            await Task.Delay(50);
        }
    }

    /// <summary>CPU time the host has used so far.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The process's peak resident set size so far (VmHWM in /proc/{pid}/status), in bytes; null where
    /// there is no /proc.</summary>
    public long? PeakResidentBytes()
    {
        var status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;   // "VmHWM:   123456 kB"
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
        _http.Dispose();
    }
}
