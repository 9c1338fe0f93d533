using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Flowers.Labelling;
using Flowers.LocalHost;
using Flowers.Pipeline;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>
/// A burst of uploads, as fast as the client can send them, to the real `flowers host` process: every upload gets
/// exactly one label result, the host says "Labelled" once per upload, and its peak memory stays bounded.
/// FLOWERS_LOAD_UPLOADS sets the number of uploads: the issue's 1000 by default (1.5 min alone, 3.3 min beside the
/// other tests of the project on this 2-core machine); fewer for a quick run.
/// Real photos (flowers128) when present, else drawn ones.
/// </summary>
public sealed partial class LoadTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const long MemoryBound = 1L << 30;
    private Azurite _azurite = null!;
    private readonly string _trainingPhotos = LocalHostRun.PhotoFolder(perClass: 8);

    public async Task InitializeAsync() => _azurite = await AzuriteInstance.StartNewAsync();

    public async Task DisposeAsync()
    {
        await _azurite.DisposeAsync();
        Directory.Delete(_trainingPhotos, recursive: true);
    }

    [GeneratedRegex(@"Labelled (\S+): ")]
    private static partial Regex LabelledLine();

    [Fact]
    public async Task Every_upload_of_a_burst_is_labelled_exactly_once_and_the_host_memory_is_bounded()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("FLOWERS_LOAD_UPLOADS"), out var n) && n > 0 ? n : 1000;
        await using var host = HostProcess.Start(_azurite.ConnectionString, LocalHostRun.Key, Loopback.FreePort(), Path.GetTempPath(),
            verbose: true, keep: line => line.Contains("Labelled ", StringComparison.Ordinal));
        await host.WaitForHealthAsync();
        var blobs = new BlobServiceClient(_azurite.ConnectionString);
        var client = new PipelineClient(new HttpClient { BaseAddress = host.Url, Timeout = TimeSpan.FromSeconds(30) }, LocalHostRun.Key, blobs);

        // A model to label with: a small run through the same host.
        using (var training = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            var run = await client.WaitForRunAsync(await client.StartTrainingAsync(new { source = _trainingPhotos, shardSize = 8 }), ct: training.Token);
            Assert.True(run.RuntimeStatus == "Completed", $"{run.RuntimeStatus}: {run.Error}");
        }
        var model = (await new ModelRegistry(new FlowersStorage(blobs)).GetCurrentAsync())!.Value.Pointer.ModelId;

        var (photos, kind) = Photos(count);
        var names = Enumerable.Range(0, count).Select(i => $"load/{i:D4}.jpg").ToArray();
        var storage = new FlowersStorage(blobs);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await storage.Uploads.GetBlobClient(names[i]).UploadAsync(BinaryData.FromBytes(photos[i]), ct));
        var uploaded = clock.Elapsed;

        // Done when the host has said "Labelled" for every upload and every upload carries its label (so no poll can pick it again).
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        while (host.Output.Select(l => LabelledLine().Match(l).Groups[1].Value).Distinct().Count() < count)
            await Task.Delay(500, timeout.Token);
        var labelled = clock.Elapsed;
        var unmarked = new List<string>();
        do
        {
            unmarked.Clear();
            await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions { Prefix = "load/", Traits = BlobTraits.Metadata }, timeout.Token))
                if (!blob.Metadata.ContainsKey(StorageNames.LabelModelMetadata)) unmarked.Add(blob.Name);
            if (unmarked.Count > 0) await Task.Delay(500, timeout.Token);
        } while (unmarked.Count > 0);
        var peak = host.PeakResidentBytes();

        var results = new ConcurrentDictionary<string, LabelResult?>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (name, ct) =>
            results[name] = await storage.Labels.GetBlobClient(StorageNames.LabelBlob(name)).ReadOrDefaultAsync<LabelResult>(ct));
        var labelBlobs = 0;
        await foreach (var _ in storage.Labels.GetBlobsAsync(new GetBlobsOptions { Prefix = "load/" })) labelBlobs++;
        var saidLabelled = host.Output.Select(l => LabelledLine().Match(l).Groups[1].Value).Where(v => v.Length > 0)
            .GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());

        output.WriteLine($"{count} {kind} uploaded in {uploaded.TotalSeconds:0.0} s (32 at a time), all labelled {labelled.TotalSeconds:0.0} s after the first upload " +
                         $"({count / labelled.TotalSeconds:0.0} photos/s); {labelBlobs} label results, {saidLabelled.Values.Sum()} \"Labelled\" lines; " +
                         $"host peak RSS (VmHWM) {peak / (1 << 20)} MiB");
        Assert.Equal(count, labelBlobs);
        Assert.All(names, name =>
        {
            var result = results[name];
            Assert.True(result is { Pending: false, Label: not null }, $"{name}: {result?.Error ?? "no result"}");
            Assert.Equal(model, result!.ModelId);
        });
        Assert.Equal(names.Order(StringComparer.Ordinal), saidLabelled.Keys.Order(StringComparer.Ordinal));
        Assert.All(saidLabelled, p => Assert.True(p.Value == 1, $"{p.Key} labelled {p.Value} times"));
        Assert.True(peak < MemoryBound, $"host peak RSS {peak / (1 << 20)} MiB");
    }

    /// <summary>The photos to upload: the real flower photos when on this machine (cycling through them), else drawn ones.</summary>
    private static (byte[][] Photos, string Kind) Photos(int count)
    {
        var real = new[] { Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR"), Path.Combine(TestRepository.Root, "..", "shared", "datasets", "flowers128") }
            .FirstOrDefault(d => !string.IsNullOrEmpty(d) && Directory.Exists(d));
        var files = real is null ? [] : Directory.GetFiles(real, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (files.Length > 0)
        {
            // Spread over the classes (files are sorted by class folder), not the first class only.
            var step = Math.Max(1, files.Length / count);
            return (Enumerable.Range(0, count).Select(i => File.ReadAllBytes(files[i * step % files.Length])).ToArray(), "flowers128 photos");
        }
        return (Enumerable.Range(0, count).Select(i => SyntheticPhotos.Jpeg(SyntheticPhotos.Classes[i % 3], 10_000 + i)).ToArray(), "drawn photos");
    }
}
