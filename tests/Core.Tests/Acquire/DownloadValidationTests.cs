using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flowers.Acquire;
using Flowers.Testing;

namespace Flowers.Tests.Acquire;

/// <summary>Issue 16: a download becomes a cache entry only when the extractor opens it; a whole download has a deadline.
/// Against real local HTTP servers.</summary>
public class DownloadValidationTests
{
    private static byte[] PhotosTgz(TestFolder dir)
    {
        var folder = SyntheticPhotos.WriteClasses(dir["src/photos"], new Dictionary<string, int> { ["daisy"] = 3, ["roses"] = 3 });
        return File.ReadAllBytes(TestArchives.TgzOf(folder, dir["photos.tgz"]));
    }

    [Fact]
    public async Task A_one_off_HTML_answer_is_refused_naming_it_and_not_cached()
    {
        using var dir = new TestFolder();
        await using var server = new LocalHttpServer();
        var url = server.Serve("photos.tgz", "<html><body>Sign in to the hotel Wi-Fi</body></html>"u8.ToArray());
        var acquirer = new DatasetAcquirer(new AcquireOptions { CacheDirectory = dir["cache"] });

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => acquirer.AcquireAsync(url.ToString()));

        Assert.True(error.Message.StartsWith($"The answer from {url} is not a .tar, .tgz/.tar.gz or .zip (deflate or stored entries) archive "
            + "(it starts with '<html><body>Sign in to t...'); it was not cached."), error.Message);
        Assert.Empty(Directory.GetFiles(dir["cache/downloads"], "*", SearchOption.AllDirectories));

        server.Serve("photos.tgz", PhotosTgz(dir));   // the server answers properly again: the next run downloads it
        var dataset = await acquirer.AcquireAsync(url.ToString());
        Assert.Equal(6, dataset.Photos.Count);
    }

    [Fact]
    public async Task An_archive_of_another_format_is_not_cached_either()
    {
        using var dir = new TestFolder();
        await using var server = new LocalHttpServer();
        var url = server.Serve("photos.tgz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, .. new byte[100]]);

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(
            () => new DatasetAcquirer(new AcquireOptions { CacheDirectory = dir["cache"] }).AcquireAsync(url.ToString()));

        Assert.Contains("is an xz archive; only .tar, .tgz/.tar.gz or .zip", error.Message);
        Assert.Empty(Directory.GetFiles(dir["cache/downloads"], "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_cached_download_that_fails_to_extract_is_dropped_so_the_next_run_downloads_it_again()
    {
        using var dir = new TestFolder();
        await using var server = new LocalHttpServer();
        var good = PhotosTgz(dir);
        var damaged = good.ToArray();
        for (var i = damaged.Length / 2; i < damaged.Length / 2 + 64; i++) damaged[i] ^= 0x5A;   // header fine, body not
        var url = server.Serve("photos.tgz", damaged);
        var acquirer = new DatasetAcquirer(new AcquireOptions { CacheDirectory = dir["cache"] });

        await Assert.ThrowsAsync<UnusableDatasetException>(() => acquirer.AcquireAsync(url.ToString()));
        server.Serve("photos.tgz", good);

        Assert.Equal(6, (await acquirer.AcquireAsync(url.ToString())).Photos.Count);
        Assert.Equal(2, server.RequestsFor("photos.tgz"));
    }

    [Fact]
    public async Task A_download_that_trickles_past_the_deadline_is_abandoned()
    {
        using var dir = new TestFolder();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            // 100 bytes every 100 ms of a declared 10 MB: never a stall, never done.
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = client.GetStream();
            await stream.ReadAsync(new byte[4096], stop.Token);
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nContent-Type: application/gzip\r\n\r\n"u8.ToArray(), stop.Token);
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(new byte[100], stop.Token);
                await Task.Delay(100, stop.Token);
            }
        });
        var acquirer = new DatasetAcquirer(new AcquireOptions
        {
            CacheDirectory = dir["cache"], StallTimeout = TimeSpan.FromSeconds(30), DownloadTimeout = TimeSpan.FromSeconds(1.5),
        });
        var clock = Stopwatch.StartNew();

        var download = acquirer.AcquireAsync($"http://127.0.0.1:{port}/slow.tgz");
        var finished = await Task.WhenAny(download, Task.Delay(TimeSpan.FromSeconds(20)));

        await stop.CancelAsync();
        Assert.True(finished == download, "the download still ran after 20 s");
        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => download);
        Assert.Contains($"Download of http://127.0.0.1:{port}/slow.tgz took longer than the limit of 0.03 min", error.Message);
        Assert.Contains("Run again to resume it", error.Message);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.4, 10);
        try { await serving; } catch (Exception) { }
    }
}
