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
    private Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteInstance.StartNewAsync();
    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task A_run_survives_the_host_being_killed_mid_fan_out()
    {
        var port = Loopback.FreePort();
        var client = LocalRun.Client(new Uri($"http://127.0.0.1:{port}/"), _azurite.ConnectionString);
        var photos = LocalRun.PhotoFolder(perClass: 24);

        string id;
        await using (var host = HostProcess.Start(_azurite.ConnectionString, LocalRun.Key, port, Path.GetTempPath()))
        {
            await host.WaitForHealthAsync();
            id = await client.StartTrainingAsync(new { source = photos, shardSize = 4 });
            var midway = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(3),
                run => run.Progress is { Stage: "featurize", ShardsDone: > 0 } p && p.ShardsDone < p.ShardsTotal
                       || run.RuntimeStatus is not ("Running" or "Pending"));
            Assert.Equal("Running", midway.RuntimeStatus);
        }   // killed

        await using var restarted = HostProcess.Start(_azurite.ConnectionString, LocalRun.Key, port, Path.GetTempPath());
        await restarted.WaitForHealthAsync();
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
        Directory.Delete(photos, recursive: true);
    }
}
