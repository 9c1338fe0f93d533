using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Xunit.Abstractions;

namespace Flowers.LocalHost.Tests;

/// <summary>
/// Three real `flowers host` processes on one Azurite, started, killed and stopped while a training run and a stream of
/// uploads go on: the featurize activities spread over the hosts, one model is published, and every upload is labelled
/// once, by one host, none lost. The counts come from each host's own log of what it did.
/// </summary>
public sealed partial class MultiHostTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteInstance.StartNewAsync();
    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [GeneratedRegex(@"Labelled (?<name>\S+):")] private static partial Regex LabelledLine();
    [GeneratedRegex(@"Shard (?<shard>\S+) of")] private static partial Regex ShardLine();

    private HostProcess Start(int port) => HostProcess.Start(_azurite.ConnectionString, LocalRun.Key, port, Path.GetTempPath(), verbose: true,
        keep: line => line.Contains("Labelled ", StringComparison.Ordinal) || line.Contains("Shard ", StringComparison.Ordinal)
                      || line.Contains("Published model ", StringComparison.Ordinal));

    [Fact]
    public async Task Hosts_share_a_run_and_label_every_upload_once_while_they_start_and_are_killed()
    {
        var storage = new FlowersStorage(new BlobServiceClient(_azurite.ConnectionString));
        await storage.EnsureContainersAsync();
        var photos = LocalRun.PhotoFolder(perClass: 48);
        var uploads = new List<string>();
        async Task UploadAsync(string phase, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var name = $"{phase}-{i:D3}.jpg";
                await storage.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(SyntheticPhotos.Classes[i % 3], 9000 + uploads.Count)));
                uploads.Add(name);
            }
        }

        var hosts = new Dictionary<string, HostProcess>();
        try
        {
            hosts["A"] = Start(Loopback.FreePort());
            hosts["B"] = Start(Loopback.FreePort());
            await Task.WhenAll(hosts.Values.Select(h => h.WaitForHealthAsync()));
            await UploadAsync("early", 20); // before any model: pending, labelled when one is published

            var client = hosts["A"].Client;
            // At the full-resolution input size: the small drawn photos would choose 128 px, and their fan-out would end
            // on host A before the others' idle queue polls (up to 2 s apart) find any of it.
            var id = await client.StartTrainingAsync(new { source = photos, shardSize = 4, inputSize = 288 });
            var midway = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(5),
                run => run.Progress is { Stage: "featurize", ShardsDone: > 2 } p && p.ShardsDone < p.ShardsTotal - 4
                       || run.RuntimeStatus is not ("Running" or "Pending"));
            Assert.Equal("Running", midway.RuntimeStatus);
            hosts["C"] = Start(Loopback.FreePort());   // starts mid fan-out
            await hosts["B"].KillAsync();               // killed mid fan-out, holding whatever it was featurizing
            await hosts["C"].WaitForHealthAsync();
            await UploadAsync("during", 20);

            var done = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(8));
            Assert.True(done.RuntimeStatus == "Completed", $"{done.RuntimeStatus}: {done.Error}");
            var modelId = done.Result!.PublishedModelId!;
            Assert.NotNull(modelId);

            await UploadAsync("burst", 40);            // A and C both watching
            await WaitForLabelsAsync(storage, uploads, modelId, TimeSpan.FromMinutes(3));
            await hosts["A"].KillAsync();              // C alone from here
            await UploadAsync("late", 10);
            await WaitForLabelsAsync(storage, uploads, modelId, TimeSpan.FromMinutes(2));

            // Counts, from what each host logged.
            var labelledBy = hosts.SelectMany(h => h.Value.Output.Select(l => LabelledLine().Match(l)).Where(m => m.Success)
                .Select(m => (Host: h.Key, Upload: m.Groups["name"].Value))).ToList();
            var shardsBy = hosts.ToDictionary(h => h.Key, h => h.Value.Output.Count(l => ShardLine().IsMatch(l)));
            var published = hosts.Sum(h => h.Value.Output.Count(l => l.Contains("Published model ", StringComparison.Ordinal)));
            output.WriteLine($"featurize activities per host: {string.Join(", ", shardsBy.Select(s => $"{s.Key} {s.Value}"))} (shards in the run: {done.Progress!.ShardsTotal})");
            output.WriteLine($"uploads labelled per host: {string.Join(", ", hosts.Keys.Select(k => $"{k} {labelledBy.Count(l => l.Host == k)}"))}; "
                + $"uploads {uploads.Count}, labelled once {uploads.Count(u => labelledBy.Count(l => l.Upload == u) == 1)}, "
                + $"twice or more {uploads.Count(u => labelledBy.Count(l => l.Upload == u) > 1)}, never {uploads.Count(u => labelledBy.All(l => l.Upload != u))}");
            output.WriteLine($"models published: {published}");

            Assert.All(uploads, u => Assert.Single(labelledBy, l => l.Upload == u));
            Assert.Equal(uploads.Count, labelledBy.Count);
            Assert.True(shardsBy.Count(s => s.Value > 0) >= 2, "the featurize activities ran on one host only");
            // Not every shard is logged: one whose features the killed host had written before it died is found, not redone.
            Assert.Equal(1, published);
            var packages = new List<string>();
            await foreach (var blob in storage.Models.GetBlobsAsync())
                if (blob.Name.EndsWith("/" + StorageNames.ModelPackageFile, StringComparison.Ordinal)) packages.Add(blob.Name);
            Assert.Equal([StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile)], packages);
            var leftClaims = 0;
            await foreach (var _ in storage.Claims.GetBlobsAsync()) leftClaims++;
            output.WriteLine($"claims left behind: {leftClaims}");
        }
        finally
        {
            foreach (var host in hosts.Values) await host.DisposeAsync();
            Directory.Delete(photos, recursive: true);
        }
    }

    /// <summary>Until every upload has this model's label (none lost); fails naming the ones still without.</summary>
    private static async Task WaitForLabelsAsync(FlowersStorage storage, IReadOnlyList<string> uploads, string modelId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var missing = uploads.ToList();
        while (true)
        {
            var still = new List<string>();
            foreach (var name in missing)
                if (await storage.Labels.GetBlobClient(StorageNames.LabelBlob(name)).ReadOrDefaultAsync<LabelResult>() is not { Pending: false, Label: not null } r
                    || r.ModelId != modelId)
                    still.Add(name);
            missing = still;
            if (missing.Count == 0) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{missing.Count} uploads without a label by {modelId}: {string.Join(", ", missing.Take(10))}");
            await Task.Delay(250);
        }
    }
}
