using System.Diagnostics;
using Azure.Storage.Blobs;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.LocalHost.Tests;

/// <summary>
/// Durable for real: the `flowers host` process is killed in the middle of the featurize fan-out and started
/// again; the run finishes, and exactly one model is trained and published.
/// </summary>
public sealed class KillAndRestartTests : IAsyncLifetime
{
    private AzuriteInstance _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteInstance.StartNewAsync();
    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task A_run_survives_the_host_being_killed_mid_fan_out()
    {
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var client = LocalRun.Client(url, _azurite.ConnectionString);
        var photos = LocalRun.PhotoFolder(perClass: 24);

        var host = StartHost(port);
        string id;
        try
        {
            await WaitForHealthAsync(url);
            id = await client.StartTrainingAsync(new { source = photos, shardSize = 4 });
            var midway = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(3),
                run => run.Progress is { Stage: "featurize", ShardsDone: > 0 } p && p.ShardsDone < p.ShardsTotal
                       || run.RuntimeStatus is not ("Running" or "Pending"));
            Assert.Equal("Running", midway.RuntimeStatus);
        }
        finally
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync();
        }

        var restarted = StartHost(port);
        try
        {
            await WaitForHealthAsync(url);
            var run = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(5));
            Assert.True(run.RuntimeStatus == "Completed", $"{run.RuntimeStatus}: {run.Error}");
            Assert.NotNull(run.Result!.PublishedModelId);
            Assert.Equal(72, run.Result.Photos);

            var models = new BlobServiceClient(_azurite.ConnectionString).GetBlobContainerClient(StorageNames.Models);
            var packages = new List<string>();
            await foreach (var blob in models.GetBlobsAsync())
                if (blob.Name.EndsWith("/" + StorageNames.ModelPackageFile)) packages.Add(blob.Name);
            Assert.Equal([StorageNames.ModelBlob(run.Result.PublishedModelId!, StorageNames.ModelPackageFile)], packages);
            var pointer = await models.GetBlobClient(StorageNames.CurrentModelPointer).ReadOrDefaultAsync<PublishedModelPointer>();
            Assert.Equal(run.Result.PublishedModelId, pointer!.ModelId);
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }
    }

    /// <summary>The real command, as a user runs it, pointed at this test's Azurite by the usual settings.</summary>
    private Process StartHost(int port)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "flowers.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        start.ArgumentList.Add("host");
        start.Environment[StorageNames.Connection] = _azurite.ConnectionString;
        start.Environment["FLOWERS_HOST_URL"] = $"http://127.0.0.1:{port}";
        start.Environment[FunctionKey.EnvironmentVariable] = LocalRun.Key;
        start.Environment["FLOWERS_ROOT"] = Path.GetTempPath();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForHealthAsync(Uri url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);   // a cold .NET start under load
        while (!await LocalPipeline.IsHealthyAsync(url.ToString(), CancellationToken.None))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"flowers host did not answer on {url}");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
