using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Flowers.LocalHost;

/// <summary>
/// The storage emulator, from the repository's node_modules (installed by scripts/azurite.sh --install-only, pinned by
/// package-lock.json, when missing). Two ways to get one: <see cref="EnsureRunningAsync"/>, the local host's (reuses one
/// already listening on 127.0.0.1:10000, otherwise starts one persisting under .azurite/ so that queued work and uploads
/// outlive a host restart), and <see cref="StartOwnAsync"/>, the bench's and the tests' (on free ports, in memory or in
/// a folder of its own: empty storage each time, and nothing else on the machine touched).
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";
    /// <summary>Azurite's fixed development account (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const int DefaultBlobPort = 10000;
    private const int Sigterm = 15;
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private readonly Launch? _launch;
    private readonly string? _ownDirectory;
    private Process? _process;

    /// <summary>What starts the process again on a restart: the same executable, arguments and ports.</summary>
    private sealed record Launch(string Executable, string WorkingDirectory, string[] Arguments, int[] Ports);

    private Azurite(Launch? launch, string connectionString, string? ownDirectory = null)
    {
        _launch = launch;
        ConnectionString = connectionString;
        _ownDirectory = ownDirectory;
    }

    /// <summary>True when this instance started Azurite (and so stops it on dispose).</summary>
    public bool StartedHere => _launch is not null;

    public string ConnectionString { get; }

    /// <summary>CPU time Azurite has used so far, when this instance started it (the benchmark's storage share).</summary>
    public TimeSpan? ProcessorTime
    {
        get
        {
            if (_process is null || _process.HasExited) return null;
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<Azurite> EnsureRunningAsync(string repositoryRoot, Action<string>? say = null, CancellationToken ct = default)
    {
        if (await Loopback.IsListeningAsync(DefaultBlobPort, ct)) return new Azurite(null, DevelopmentStorage);
        var executable = await InstalledAsync(repositoryRoot, say, ct);
        var data = Path.Combine(repositoryRoot, ".azurite");
        Directory.CreateDirectory(data);
        say?.Invoke($"Starting Azurite (data in {data})...");
        var azurite = new Azurite(new Launch(executable, repositoryRoot,
            ["--location", data, "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1"], [DefaultBlobPort]),
            DevelopmentStorage);
        await azurite.StartAsync(ct);
        return azurite;
    }

    /// <summary>An Azurite of the caller's own on free 127.0.0.1 ports (<see cref="ConnectionString"/> names them): in
    /// memory, or <paramref name="onDisk"/> in files of its own, so that a <see cref="RestartAsync"/> finds every blob,
    /// queue message and table row it had.</summary>
    public static async Task<Azurite> StartOwnAsync(string repositoryRoot, bool onDisk = false, CancellationToken ct = default)
    {
        var executable = await InstalledAsync(repositoryRoot, say: null, ct);
        var directory = Directory.CreateTempSubdirectory("flowers-azurite-").FullName;
        var (blob, queue, table) = (Loopback.FreePort(), Loopback.FreePort(), Loopback.FreePort());
        string[] persistence = onDisk ? ["--location", Path.Combine(directory, "data")] : ["--inMemoryPersistence"];
        var azurite = new Azurite(new Launch(executable, directory,
            [
                .. persistence, "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(), "--queueHost", "127.0.0.1",
                "--queuePort", queue.ToString(), "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
            ], [blob, queue, table]),
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{AccountName};QueueEndpoint=http://127.0.0.1:{queue}/{AccountName};" +
            $"TableEndpoint=http://127.0.0.1:{table}/{AccountName};", directory);
        try
        {
            await azurite.StartAsync(ct);
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }
        return azurite;
    }

    /// <summary>Shuts Azurite down as an operator would and starts it again on the same ports, so clients holding the
    /// connection string reconnect. Only an on-disk one keeps its data.</summary>
    public async Task RestartAsync(TimeSpan? away = null, CancellationToken ct = default)
    {
        if (_launch is null) throw new InvalidOperationException("this Azurite was started elsewhere");
        await ShutDownAsync();
        if (away is { } pause) await Task.Delay(pause, ct);
        await StartAsync(ct);
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

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>node_modules/.bin/azurite, installed by scripts/azurite.sh --install-only (the one installer) if missing.</summary>
    private static async Task<string> InstalledAsync(string repositoryRoot, Action<string>? say, CancellationToken ct)
    {
        var executable = Path.Combine(repositoryRoot, "node_modules", ".bin", "azurite");
        if (File.Exists(executable)) return executable;
        // Test projects run in parallel processes: one install at a time per repository.
        await InstallLock.WaitAsync(ct);
        try
        {
            var lockName = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(repositoryRoot)))[..12];
            await using var fileLock = await LockFileAsync(Path.Combine(Path.GetTempPath(), $"flowers-npm-ci-{lockName}.lock"), ct);
            if (File.Exists(executable)) return executable;
            say?.Invoke("Installing Azurite (npm ci)...");
            var install = new ProcessStartInfo("bash") { WorkingDirectory = repositoryRoot, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { Path.Combine(repositoryRoot, "scripts", "azurite.sh"), "--install-only" }) install.ArgumentList.Add(arg);
            using var process = Process.Start(install) ?? throw new InvalidOperationException("could not run scripts/azurite.sh");
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0 || !File.Exists(executable))
                throw new InvalidOperationException($"installing Azurite failed in {repositoryRoot} (exit {process.ExitCode}): {(await stderr).Trim()}");
            return executable;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<FileStream> LockFileAsync(string path, CancellationToken ct)
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
                await Task.Delay(200, ct);
            }
        }
    }

    /// <summary>Starts Azurite with the common flags and the launch's own, and waits until every port listens.</summary>
    private async Task StartAsync(CancellationToken ct)
    {
        var (executable, workingDirectory, args, ports) = _launch!;
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry" }.Concat(args))
            start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        var output = new StringBuilder();
        _process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in ports)
            while (!await Loopback.IsListeningAsync(port, ct))
            {
                if (_process.HasExited || DateTime.UtcNow > deadline)
                {
                    string said;
                    lock (output) said = output.ToString().Trim();
                    await StopAsync();
                    throw new InvalidOperationException($"Azurite did not start listening on 127.0.0.1:{port}: {said}");
                }
                await Task.Delay(50, ct);
            }
    }

    /// <summary>Kills the process this instance started, if it still runs.</summary>
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
        if (_ownDirectory is not null)
            try { Directory.Delete(_ownDirectory, recursive: true); } catch (IOException) { }
    }
}
