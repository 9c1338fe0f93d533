using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flowers.LocalHost;

/// <summary>
/// The storage emulator, from the repository's node_modules (installed with `npm ci`, pinned by package-lock.json,
/// when missing). Two ways to get one: <see cref="EnsureRunningAsync"/>, the local host's (reuses one already
/// listening on 127.0.0.1:10000, otherwise starts one persisting under .azurite/ so that queued work and uploads
/// outlive a host restart), and <see cref="StartOwnAsync"/>, the bench's (in-memory, on free ports: empty storage
/// each time, and nothing else on the machine touched).
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";
    private const int BlobPort = 10000;
    private const string Account = "devstoreaccount1";
    // Azurite's fixed, public development key.
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly Process? _process;
    private readonly string? _ownDirectory;

    private Azurite(Process? process, string connectionString, string? ownDirectory = null)
    {
        _process = process;
        ConnectionString = connectionString;
        _ownDirectory = ownDirectory;
    }

    /// <summary>True when this instance started Azurite (and so stops it on dispose).</summary>
    public bool StartedHere => _process is not null;

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
        if (await IsListeningAsync(BlobPort, ct)) return new Azurite(null, DevelopmentStorage);
        var executable = await InstalledAsync(repositoryRoot, say, ct);
        var data = Path.Combine(repositoryRoot, ".azurite");
        Directory.CreateDirectory(data);
        say?.Invoke($"Starting Azurite (data in {data})...");
        var process = await StartAsync(executable, repositoryRoot,
            ["--location", data, "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1"], [BlobPort], ct);
        return new Azurite(process, DevelopmentStorage);
    }

    /// <summary>An Azurite of the caller's own: in-memory, on free 127.0.0.1 ports; <see cref="ConnectionString"/> names them.</summary>
    public static async Task<Azurite> StartOwnAsync(string repositoryRoot, CancellationToken ct = default)
    {
        var executable = await InstalledAsync(repositoryRoot, say: null, ct);
        var directory = Directory.CreateTempSubdirectory("flowers-azurite-").FullName;
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var process = await StartAsync(executable, directory,
        [
            "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(), "--queueHost", "127.0.0.1",
            "--queuePort", queue.ToString(), "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
        ], [blob, queue, table], ct);
        return new Azurite(process,
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{Account};QueueEndpoint=http://127.0.0.1:{queue}/{Account};" +
            $"TableEndpoint=http://127.0.0.1:{table}/{Account};", directory);
    }

    /// <summary>A port nothing listens on now, on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> InstalledAsync(string repositoryRoot, Action<string>? say, CancellationToken ct)
    {
        var executable = Path.Combine(repositoryRoot, "node_modules", ".bin", "azurite");
        if (File.Exists(executable)) return executable;
        say?.Invoke("Installing Azurite (npm ci)...");
        using var npm = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund --loglevel=error") { WorkingDirectory = repositoryRoot })
            ?? throw new InvalidOperationException("could not run npm");
        await npm.WaitForExitAsync(ct);
        if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci failed with exit code {npm.ExitCode} in {repositoryRoot}");
        return executable;
    }

    /// <summary>Starts Azurite with the common flags and <paramref name="args"/>, and waits until every port listens.</summary>
    private static async Task<Process> StartAsync(string executable, string workingDirectory, string[] args, int[] ports, CancellationToken ct)
    {
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry" }.Concat(args))
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in ports)
            while (!await IsListeningAsync(port, ct))
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    await StopAsync(process);
                    throw new InvalidOperationException($"Azurite did not start listening on 127.0.0.1:{port}");
                }
                await Task.Delay(50, ct);
            }
        return process;
    }

    private static async Task<bool> IsListeningAsync(int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { } // already gone
        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await StopAsync(_process);
        if (_ownDirectory is not null)
            try { Directory.Delete(_ownDirectory, recursive: true); } catch (IOException) { }
    }
}
