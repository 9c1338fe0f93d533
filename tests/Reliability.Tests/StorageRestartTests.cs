using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Reliability.Tests;

/// <summary>
/// Storage goes away in the middle of a run: Azurite (on disk, so its data outlives the process) is shut down while
/// the featurize fan-out runs, stays away a few seconds and comes back on the same ports. The local host keeps running
/// throughout; the run completes, and the model is published once and whole.
/// </summary>
public sealed class StorageRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private LocalHostRun _run = null!;
    private readonly string _photos = LocalHostRun.PhotoFolder(perClass: 24);

    public async Task InitializeAsync() =>
        _run = await LocalHostRun.StartAsync("StorageRestartHub", await AzuriteInstance.StartNewAsync(onDisk: true));

    public async Task DisposeAsync()
    {
        await _run.DisposeAsync();
        Directory.Delete(_photos, recursive: true);
    }

    [Fact]
    public async Task A_run_survives_storage_going_away_mid_fan_out_and_publishes_once()
    {
        var id = await _run.Client.StartTrainingAsync(new { source = _photos, shardSize = 4 });
        var midway = await _run.WaitAsync(id, TimeSpan.FromMinutes(3),
            run => run.Progress is { Stage: "featurize", ShardsDone: > 0 } p && p.ShardsDone < p.ShardsTotal
                   || run.RuntimeStatus is not ("Running" or "Pending"));
        Assert.Equal("Running", midway.RuntimeStatus);

        var before = _run.Logs.Lines.Count;
        await _run.Azurite.RestartAsync(away: TimeSpan.FromSeconds(5));
        var whileAway = _run.Logs.Lines.Skip(before).ToList();
        output.WriteLine($"stopped at featurize {midway.Progress!.ShardsDone}/{midway.Progress.ShardsTotal} shards; " +
                         $"while storage was away the host logged {whileAway.Count} lines: " +
                         string.Join(", ", whileAway.GroupBy(l => l.Split(' ')[0]).Select(g => $"{g.Count()} {g.Key}")));

        var done = await _run.WaitAsync(id, TimeSpan.FromMinutes(5));
        output.WriteLine($"run {done.RuntimeStatus}{(done.Error is null ? "" : ": " + done.Error)}, " +
                         $"{(done.LastUpdatedAt - midway.LastUpdatedAt).TotalSeconds:0} s after the stop");
        var afterStop = _run.Logs.Lines.Skip(before).Where(l => l.StartsWith("Warning") || l.StartsWith("Error") || l.StartsWith("Critical")).ToList();
        output.WriteLine($"warnings and errors from the stop to the end of the run: " +
                         string.Join(", ", afterStop.GroupBy(l => string.Join(' ', l.Split(' ')[..2])).Select(g => $"{g.Count()} {g.Key}")));
        foreach (var line in afterStop) output.WriteLine("  " + (line.Length > 240 ? line[..240] + "…" : line));
        Assert.True(done.RuntimeStatus == "Completed", $"{done.RuntimeStatus}: {done.Error}");
        var modelId = done.Result!.PublishedModelId;
        Assert.NotNull(modelId);
        Assert.Equal(72, done.Result.Photos);
        Assert.DoesNotContain(_run.Logs.Lines, l => l.StartsWith("Critical"));

        // Published once: one package in the container, one "Published" log line, and the pointer names that model.
        var storage = new FlowersStorage(new BlobServiceClient(_run.Azurite.ConnectionString));
        var packages = new List<string>();
        await foreach (var blob in storage.Models.GetBlobsAsync())
            if (blob.Name.EndsWith("/" + StorageNames.ModelPackageFile)) packages.Add(blob.Name);
        Assert.Equal([StorageNames.ModelBlob(modelId, StorageNames.ModelPackageFile)], packages);
        Assert.Single(_run.Logs.Lines, l => l.Contains($"Published model {modelId}", StringComparison.Ordinal));

        // Whole: every file the pointer leads to reads, and a labeller of its own loads it and labels a photo.
        var registry = new ModelRegistry(storage);
        var current = await registry.GetCurrentAsync();
        Assert.Equal(modelId, current?.Pointer.ModelId);
        Assert.NotNull(await registry.DescribeAsync(modelId));
        Assert.NotNull(await registry.ReadMetricsAsync(modelId));
        foreach (var file in StorageNames.ReportFiles) Assert.NotNull(await registry.ReadReportFileAsync(modelId, file));
        Assert.Equal(modelId, (await registry.LoadPackageAsync(modelId)).ModelId);
        var fresh = ActivatorUtilities.CreateInstance<PublishedModel>(_run.Host.Pipeline);
        var classifier = await fresh.GetAsync(recheck: true);
        Assert.Equal(modelId, classifier?.ModelId);
        Assert.Contains(classifier!.Classify(SyntheticPhotos.Jpeg("circle", 7001)).Label, SyntheticPhotos.Classes);

        // The host itself still works on the restarted storage: an upload is labelled by that model.
        var photo = Path.Combine(_photos, "circle", "circle-000.jpg");
        var label = (await _run.Client.LabelAsync([photo], TimeSpan.FromSeconds(60)))[0];
        Assert.True(label.Label is not null, label.Error);
        Assert.Equal(modelId, label.ModelId);
    }
}
