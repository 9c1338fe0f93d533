using Flowers.Evaluate;

namespace Flowers.Reliability.Tests;

/// <summary>Issue 16: a 40 MiB "JPEG" (a sparse file behind a real JPEG header) in a class folder, trained on through
/// the local host: it is listed as skipped with its size and the limit, and the run uses every other photo.</summary>
public sealed class LargePhotoTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private LocalHostRun _run = null!;
    private readonly string _photos = LocalHostRun.PhotoFolder(perClass: 8);
    private readonly string _model = Directory.CreateTempSubdirectory("flowers-reliability-large-").FullName;

    public async Task InitializeAsync() => _run = await LocalHostRun.StartAsync("LargePhotoHub");

    public async Task DisposeAsync()
    {
        await _run.DisposeAsync();
        Directory.Delete(_photos, recursive: true);
        Directory.Delete(_model, recursive: true);
    }

    [Fact]
    public async Task A_photo_past_the_byte_limit_is_skipped_with_its_size_and_the_run_completes()
    {
        using (var huge = new FileStream(Path.Combine(_photos, "circle", "huge.jpg"), FileMode.Create))
        {
            huge.Write(Testing.SyntheticPhotos.Jpeg("circle", 99));
            huge.SetLength(40L << 20);
        }

        var id = await _run.Client.StartTrainingAsync(new { source = _photos, shardSize = 8 });
        var trained = await _run.WaitAsync(id, TimeSpan.FromMinutes(5));

        Assert.True(trained.RuntimeStatus == "Completed", $"{trained.RuntimeStatus}: {trained.Error}");
        await _run.Client.DownloadModelAsync(trained.Result!.PublishedModelId!, _model);
        var metrics = RunMetrics.FromJson(File.ReadAllText(Path.Combine(_model, "metrics.json")));
        foreach (var s in metrics.Skipped) output.WriteLine($"skipped {s.Image}: {s.Reason}");
        var skipped = Assert.Single(metrics.Skipped);
        Assert.Equal("circle/huge.jpg", skipped.Image);
        Assert.Equal("too large: 41,943,040 bytes (limit 33,554,432 bytes a photo)", skipped.Reason);
        Assert.Equal(3 * 8, metrics.TrainCount + metrics.TestCount);
    }
}
