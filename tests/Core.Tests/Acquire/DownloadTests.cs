using Flowers.Acquire;
using Flowers.Testing;

namespace Flowers.Tests.Acquire;

public class DownloadTests
{
    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
    private sealed class Recorder : IProgress<AcquireProgress>
    {
        public List<AcquireProgress> Reports { get; } = [];
        public void Report(AcquireProgress value) { lock (Reports) Reports.Add(value); }
    }

    private static DatasetAcquirer AcquirerFor(TestFolder dir) => new(new AcquireOptions { CacheDirectory = dir["cache"] });

    /// <summary>A .tgz of synthetic flower_photos plus 3 MiB of incompressible notes, to span several progress reports.</summary>
    private static (byte[] Archive, string Fingerprint) FlowerPhotosArchive(TestFolder dir)
    {
        var folder = SyntheticPhotos.WriteClasses(dir["src/flower_photos"], new Dictionary<string, int> { ["daisy"] = 6, ["roses"] = 6 });
        var notes = new byte[3 << 20];
        new Random(7).NextBytes(notes);
        dir.Write("src/flower_photos/notes.bin", notes);
        var fingerprint = DatasetFolder.Scan(folder).Fingerprint;
        return (File.ReadAllBytes(TestArchives.TgzOf(folder, dir["src.tgz"])), fingerprint);
    }

    [Fact]
    public async Task A_download_reports_progress_and_is_fetched_only_once()
    {
        using var dir = new TestFolder();
        var (archive, fingerprint) = FlowerPhotosArchive(dir);
        Assert.True(archive.Length > 2 << 20, $"archive is only {archive.Length} bytes");
        await using var server = new LocalHttpServer();
        var url = server.Serve("flower_photos.tgz", archive);
        var progress = new Recorder();

        var dataset = await AcquirerFor(dir).AcquireAsync(url.ToString(), progress);

        Assert.Equal(fingerprint, dataset.Fingerprint);
        var downloads = progress.Reports.Where(r => r.Stage == AcquireStage.Download).ToList();
        Assert.True(downloads.Count >= 3, $"{downloads.Count} download reports");
        Assert.All(downloads, r => Assert.Equal(archive.Length, r.Total));
        Assert.Equal(downloads.Select(r => r.Done).Order(), downloads.Select(r => r.Done));
        Assert.Equal(archive.Length, downloads[^1].Done);
        Assert.Contains(progress.Reports, r => r.Stage == AcquireStage.Extract);
        Assert.Contains(progress.Reports, r => r.Stage == AcquireStage.Scan && r.Done == 12);

        // Second run: served from the extracted cache. Third run, extraction removed: from the download cache.
        Assert.Equal(fingerprint, (await AcquirerFor(dir).AcquireAsync(url.ToString())).Fingerprint);
        Directory.Delete(dir["cache/extracted"], recursive: true);
        Assert.Equal(fingerprint, (await AcquirerFor(dir).AcquireAsync(url.ToString())).Fingerprint);
        Assert.Equal(1, server.RequestsFor("flower_photos.tgz"));
    }

    [Fact]
    public async Task A_download_that_breaks_off_leaves_no_final_file_and_the_next_run_resumes_with_a_range()
    {
        using var dir = new TestFolder();
        var (archive, fingerprint) = FlowerPhotosArchive(dir);
        await using var server = new LocalHttpServer();
        var half = archive.Length / 2;
        var url = server.Serve("flower_photos.tgz", archive, breakAfterBytes: half);
        var cache = new DownloadCache(dir["cache/downloads"], new HttpClient(), TimeSpan.FromSeconds(30), long.MaxValue);
        var final = cache.PathFor(url);

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => AcquirerFor(dir).AcquireAsync(url.ToString()));

        Assert.Contains("broke off", error.Message);
        Assert.Contains("--dataset", error.Message);
        Assert.False(File.Exists(final));
        Assert.False(Directory.Exists(dir["cache/extracted"]) && Directory.EnumerateFileSystemEntries(dir["cache/extracted"]).Any());
        Assert.Equal(half, new FileInfo(final + ".partial").Length);

        var dataset = await AcquirerFor(dir).AcquireAsync(url.ToString());

        Assert.Equal(fingerprint, dataset.Fingerprint);
        Assert.Equal(archive, await File.ReadAllBytesAsync(final));
        Assert.False(File.Exists(final + ".partial"));
        var resumed = server.Requests.Last();
        Assert.Equal($"bytes={half}-", resumed.Range);
        Assert.NotNull(resumed.IfRange);   // guarded by the ETag of the first response
    }

    [Fact]
    public async Task A_partial_file_of_an_archive_that_changed_since_is_thrown_away()
    {
        using var dir = new TestFolder();
        var (archive, fingerprint) = FlowerPhotosArchive(dir);
        await using var server = new LocalHttpServer();
        var oldVersion = archive.Reverse().ToArray();
        var url = server.Serve("flower_photos.tgz", oldVersion, breakAfterBytes: 1000);
        await Assert.ThrowsAsync<DatasetUnavailableException>(() => AcquirerFor(dir).AcquireAsync(url.ToString()));
        server.Serve("flower_photos.tgz", archive);   // new content, new ETag: If-Range no longer matches

        var dataset = await AcquirerFor(dir).AcquireAsync(url.ToString());

        Assert.Equal(fingerprint, dataset.Fingerprint);
    }

    [Fact]
    public async Task Not_found_is_a_clear_error()
    {
        using var dir = new TestFolder();
        await using var server = new LocalHttpServer();

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(
            () => AcquirerFor(dir).AcquireAsync(server.Url("missing.tgz").ToString()));

        Assert.Contains("404", error.Message);
        Assert.Contains("missing.tgz", error.Message);
        Assert.Contains("--dataset <folder|archive|url>", error.Message);
        Assert.Empty(Directory.GetFiles(dir["cache/downloads"], "missing.tgz", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_unreachable_host_fails_with_the_dataset_hint()
    {
        using var dir = new TestFolder();
        var url = $"http://127.0.0.1:{LocalHttpServer.ClosedPort()}/flower_photos.tgz";

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => AcquirerFor(dir).AcquireAsync(url));

        Assert.Contains("refused", error.Message);
        Assert.Contains("offline", error.Message);
        Assert.Contains("--dataset <folder|archive|url>", error.Message);
        Assert.Equal(url, error.Dataset);
    }

    [Fact]
    public void The_default_source_is_the_flower_photos_archive_and_the_cache_follows_FLOWERS_CACHE()
    {
        Assert.Equal("http://download.tensorflow.org/example_images/flower_photos.tgz", AcquireOptions.DefaultUrl);
        var configured = Environment.GetEnvironmentVariable(AcquireOptions.CacheEnvironmentVariable);
        var expected = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "flowers")
            : Path.GetFullPath(configured);
        Assert.Equal(expected, new AcquireOptions().CacheDirectory);
    }
}
