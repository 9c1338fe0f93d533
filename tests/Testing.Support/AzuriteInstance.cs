using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flowers.Testing;

/// <summary>
/// An Azurite process of one's own, on free 127.0.0.1 ports, in memory (or on disk, to survive a restart): tests
/// that use it are isolated from each other and from anything else on the machine, and can stop and restart it.
/// Linked into test projects from tests/Testing.Support; use it as an xunit class or collection fixture.
/// </summary>
public sealed class AzuriteInstance : IAsyncDisposable, IDisposable
{
    /// <summary>Azurite's fixed development account (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private Process? _process;
    private readonly string _workDir = Directory.CreateTempSubdirectory("flowers-azurite-").FullName;

    /// <summary>Azurite keeps its data in files under the work folder (--location) instead of in memory, so a
    /// <see cref="RestartAsync"/> finds every blob, queue message and table row it had.</summary>
    public bool OnDisk { get; private init; }

    public int BlobPort { get; private set; }
    public int QueuePort { get; private set; }
    public int TablePort { get; private set; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    public static async Task<AzuriteInstance> StartNewAsync(bool onDisk = false)
    {
        var azurite = new AzuriteInstance { OnDisk = onDisk };
        await azurite.StartAsync();
        return azurite;
    }

    /// <summary>Starts (or restarts, on new ports) the process and waits until the blob endpoint listens.</summary>
    public async Task StartAsync()
    {
        await StopAsync();
        (BlobPort, QueuePort, TablePort) = (FreePort(), FreePort(), FreePort());
        await StartOnPortsAsync();
    }

    /// <summary>Shuts the process down as an operator would (SIGTERM: Azurite saves its state and exits) and starts it
    /// again on the same ports, so clients holding the connection string reconnect. Only <see cref="OnDisk"/> keeps the data.</summary>
    public async Task RestartAsync(TimeSpan? away = null)
    {
        await ShutDownAsync();
        if (away is { } pause) await Task.Delay(pause);
        await StartOnPortsAsync();
    }

    /// <summary>Stops the process with SIGTERM, so an on-disk Azurite writes out what it holds in memory (it saves
    /// every 5 s otherwise); kills it if it has not exited within 30 s.</summary>
    public async Task ShutDownAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited && Kill(_process.Id, Sigterm) == 0)
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(wait.Token); }
            catch (OperationCanceledException) { }
        }
        await StopAsync();
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private async Task StartOnPortsAsync()
    {
        var executable = await EnsureInstalledAsync();
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = _workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] persistence = OnDisk ? ["--location", Path.Combine(_workDir, "data")] : ["--inMemoryPersistence"];
        foreach (var arg in new[]
                 {
                     "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
                     "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
                     "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(),
                 }.Concat(persistence))
            start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        var output = new System.Text.StringBuilder();
        _process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await IsListeningAsync(BlobPort) || !await IsListeningAsync(QueuePort) || !await IsListeningAsync(TablePort))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (output) log = output.ToString();
                await StopAsync();
                throw new InvalidOperationException($"Azurite did not start on 127.0.0.1:{BlobPort}: {log}");
            }
            await Task.Delay(50);
        }
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The repository root: the folder holding Flowers.sln, above the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flowers.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Flowers.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>node_modules/.bin/azurite of the repository, installed with `npm ci` (pinned by package-lock.json) if missing.</summary>
    private static async Task<string> EnsureInstalledAsync()
    {
        var root = RepositoryRoot();
        var executable = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (File.Exists(executable)) return executable;
        await InstallLock.WaitAsync();
        // Test projects run in parallel processes: one `npm ci` at a time per repository.
        await using var fileLock = await LockFileAsync(Path.Combine(Path.GetTempPath(), $"flowers-npm-ci-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..12]}.lock"));
        try
        {
            if (File.Exists(executable)) return executable;
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" }) npm.ArgumentList.Add(arg);
            using var process = Process.Start(npm) ?? throw new InvalidOperationException("could not run npm ci");
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0 || !File.Exists(executable))
                throw new InvalidOperationException($"npm ci failed in {root} (exit {process.ExitCode}): {await stderr}");
            return executable;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<FileStream> LockFileAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
