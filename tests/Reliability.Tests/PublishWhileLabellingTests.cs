using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>
/// A new model is published while photos keep coming: with model A published, uploads go on without a pause while a
/// second run trains and publishes model B. The labeller never reads a half-written model: every result names A or B,
/// none is an error, and once the labeller has seen B every later upload gets B.
/// </summary>
public sealed class PublishWhileLabellingTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private LocalHostRun _run = null!;
    private readonly string _first = LocalHostRun.PhotoFolder(perClass: 8);
    private readonly string _second = LocalHostRun.PhotoFolder(perClass: 10);

    public async Task InitializeAsync() => _run = await LocalHostRun.StartAsync("PublishWhileLabellingHub");

    public async Task DisposeAsync()
    {
        await _run.DisposeAsync();
        Directory.Delete(_first, recursive: true);
        Directory.Delete(_second, recursive: true);
    }

    [Fact]
    public async Task Uploads_during_a_publish_are_labelled_by_the_old_or_the_new_model_never_an_error()
    {
        var a = await TrainAsync(_first);
        var storage = new FlowersStorage(new BlobServiceClient(_run.Azurite.ConnectionString));

        // Two uploaders, each a photo about every 100 ms, until told to stop.
        var uploaded = new ConcurrentQueue<string>();
        var next = -1;
        using var stop = new CancellationTokenSource();
        var uploaders = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                var name = $"live/{i:D4}.jpg";
                await storage.Uploads.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(SyntheticPhotos.Jpeg(SyntheticPhotos.Classes[i % 3], 20_000 + i)));
                uploaded.Enqueue(name);
                await Task.Delay(100);
            }
        })).ToList();

        var b = await TrainAsync(_second);
        Assert.NotEqual(a, b);
        var publishedAt = uploaded.Count;

        // Once an upload is labelled by B, the labeller has switched: everything uploaded after that must get B too.
        var firstByB = await WaitForAsync(async () =>
        {
            foreach (var name in uploaded.Skip(publishedAt))
                if ((await ResultAsync(storage, name))?.ModelId == b) return name;
            return null;
        });
        var switchedAt = uploaded.Count;
        await WaitForAsync(() => Task.FromResult(uploaded.Count >= switchedAt + 10 ? "" : null));
        await stop.CancelAsync();
        await Task.WhenAll(uploaders);

        var names = uploaded.ToArray();
        var results = new Dictionary<string, LabelResult>();
        foreach (var name in names) results[name] = (await WaitForAsync(() => ResultAsync(storage, name)))!;

        var byModel = results.Values.GroupBy(r => r.ModelId ?? "none").ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{names.Length} uploads while B trained and published: {byModel.GetValueOrDefault(a)} labelled by A ({a}), " +
                         $"{byModel.GetValueOrDefault(b)} by B ({b}); {publishedAt} were uploaded before B's run ended, " +
                         $"the first labelled by B was {firstByB}, {names.Length - switchedAt} were uploaded after it");
        var lines = _run.Logs.Lines.ToList();
        var twice = names.Count(n => lines.Count(l => l.Contains($"Labelled {n}:", StringComparison.Ordinal)) > 1);
        var reread = lines.Count(l => l.Contains("changed while it was read", StringComparison.Ordinal));
        output.WriteLine($"{twice} uploads were labelled twice (the watcher and the pass over pending uploads after the publish " +
                         $"both took them); {reread} reads found the upload changed meanwhile and looked again");
        foreach (var line in lines.Where(l => l.StartsWith("Warning") || l.StartsWith("Error"))) output.WriteLine(line);
        Assert.All(results, p =>
        {
            Assert.True(p.Value.Label is not null && p.Value.Error is null, $"{p.Key}: {p.Value.Error}");
            Assert.Contains(p.Value.ModelId, new[] { a, b });
        });
        Assert.All(names.Skip(switchedAt), name => Assert.Equal(b, results[name].ModelId));
        Assert.DoesNotContain(_run.Logs.Lines, l => l.Contains("Labelling upload live/", StringComparison.Ordinal));   // no failed try
        Assert.True(twice == 0, $"{twice} uploads were labelled twice");
    }

    private async Task<string> TrainAsync(string photos)
    {
        var run = await _run.WaitAsync(await _run.Client.StartTrainingAsync(new { source = photos, shardSize = 8 }), TimeSpan.FromMinutes(5));
        Assert.True(run.RuntimeStatus == "Completed", $"{run.RuntimeStatus}: {run.Error}");
        return run.Result!.PublishedModelId!;
    }

    /// <summary>The upload's label result, or null while there is none (or only a pending one).</summary>
    private static async Task<LabelResult?> ResultAsync(FlowersStorage storage, string upload) =>
        await storage.Labels.GetBlobClient(StorageNames.LabelBlob(upload)).ReadOrDefaultAsync<LabelResult>() is { Pending: false } result ? result : null;

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> check) where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            if (await check() is { } found) return found;
            await Task.Delay(200, timeout.Token);
        }
    }
}
