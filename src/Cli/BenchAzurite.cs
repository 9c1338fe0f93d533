using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flowers.Cli;

/// <summary>
/// An Azurite of the bench's own: in-memory, on free ports, so every repeat starts from empty storage and a
/// fresh task hub, and nothing else on the machine (a developer's Azurite on 10000) is touched.
/// (A child `flowers host` sees 127.0.0.1 and also makes sure some Azurite listens on 10000: it reuses one
/// that does. "localhost" would avoid that, but Azurite answers the durable backend's lease calls with 400 then.)
/// </summary>
sealed class BenchAzurite : IAsyncDisposable
{
    const string Account = "devstoreaccount1";
    // Azurite's fixed, public development key.
    const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    readonly Process _process;
    readonly string _workDir;

    BenchAzurite(Process process, string workDir, int blob, int queue, int table)
    {
        _process = process;
        _workDir = workDir;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
                           $"BlobEndpoint=http://127.0.0.1:{blob}/{Account};QueueEndpoint=http://127.0.0.1:{queue}/{Account};" +
                           $"TableEndpoint=http://127.0.0.1:{table}/{Account};";
    }

    public string ConnectionString { get; }

    public static async Task<BenchAzurite> StartAsync(string repositoryRoot)
    {
        var executable = Path.Combine(repositoryRoot, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
            throw new InvalidOperationException($"no Azurite at {executable}: run `npm ci` in {repositoryRoot} (or ./test once)");
        var workDir = Directory.CreateTempSubdirectory("flowers-bench-azurite-").FullName;
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var start = new ProcessStartInfo(executable) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
                 {
                     "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
                     "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(), "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
                 })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new BenchAzurite(process, workDir, blob, queue, table);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in new[] { blob, queue, table })
            while (!await IsListeningAsync(port))
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    await azurite.DisposeAsync();
                    throw new InvalidOperationException($"Azurite did not start listening on 127.0.0.1:{port}");
                }
                await Task.Delay(50);
            }
        return azurite;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
