using System.Diagnostics;
using System.Net.Sockets;

namespace Flowers.LocalHost;

/// <summary>
/// The storage emulator the local host runs against: reuses one already listening on 127.0.0.1:10000,
/// otherwise installs (npm ci, pinned by package-lock.json) and starts the repository's own Azurite,
/// persisting under .azurite/ so that queued work and uploads outlive a host restart.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";
    private const int BlobPort = 10000;
    private readonly Process? _process;

    private Azurite(Process? process) => _process = process;

    /// <summary>True when this instance started Azurite (and so stops it on dispose).</summary>
    public bool StartedHere => _process is not null;

    public static async Task<Azurite> EnsureRunningAsync(string repositoryRoot, Action<string>? say = null, CancellationToken ct = default)
    {
        if (await IsListeningAsync(BlobPort, ct)) return new Azurite(null);

        var azurite = Path.Combine(repositoryRoot, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            say?.Invoke("Installing Azurite (npm ci)...");
            await RunAsync("npm", "ci --no-audit --no-fund --loglevel=error", repositoryRoot, ct);
        }
        var data = Path.Combine(repositoryRoot, ".azurite");
        Directory.CreateDirectory(data);
        say?.Invoke($"Starting Azurite (data in {data})...");
        var start = new ProcessStartInfo(azurite)
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--silent", "--location", data, "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await IsListeningAsync(BlobPort, ct))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"Azurite did not start listening on 127.0.0.1:{BlobPort}");
            await Task.Delay(100, ct);
        }
        return new Azurite(process);
    }

    private static async Task<bool> IsListeningAsync(int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port, ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string file, string args, string dir, CancellationToken ct)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { WorkingDirectory = dir })
            ?? throw new InvalidOperationException($"could not run {file}");
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed with exit code {p.ExitCode}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
