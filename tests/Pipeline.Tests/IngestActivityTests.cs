using System.IO.Compression;
using System.Net;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowers.Pipeline.Tests;

/// <summary>An Azurite of its own, private sources allowed (the archive is served on 127.0.0.1), and a zip of synthetic photos served over HTTP.</summary>
public sealed class ServedDataset : IAsyncLifetime
{
    public AzuriteInstance Azurite { get; private set; } = null!;
    public StorageTraffic Traffic { get; } = new();
    public ServiceProvider Services { get; private set; } = null!;
    public string Url { get; private set; } = "";
    private readonly HttpListener _server = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("flowers-ingest-cache-").FullName;
    private byte[] _zip = [];

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartNewAsync();
        Services = PipelineServices.Build(Azurite, Traffic, new TrainingSettings { AllowPrivateSources = true, CacheDirectory = _cache });
        using (var bytes = new MemoryStream())
        {
            using (var zip = new ZipArchive(bytes, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var photoClass in SyntheticPhotos.Classes)
                    for (var i = 0; i < 4; i++)
                        await using (var entry = zip.CreateEntry($"shapes/{photoClass}/{i}.jpg").Open())
                            await entry.WriteAsync(SyntheticPhotos.Jpeg(photoClass, 5000 + i));
                await using (var readme = zip.CreateEntry("shapes/LICENSE.txt").Open())
                    await readme.WriteAsync("synthetic"u8.ToArray());
            }
            _zip = bytes.ToArray();
        }
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/shapes.zip";
        }
        _server.Prefixes.Add(Url[..(Url.LastIndexOf('/') + 1)]);
        _server.Start();
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (_server.IsListening)
        {
            HttpListenerContext context;
            try { context = await _server.GetContextAsync(); }
            catch (Exception) { return; } // stopped
            context.Response.ContentType = "application/zip";
            context.Response.ContentLength64 = _zip.Length;
            await context.Response.OutputStream.WriteAsync(_zip);
            context.Response.Close();
        }
    }

    public async Task DisposeAsync()
    {
        _server.Stop();
        _server.Close();
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }
}

public class IngestActivityTests(ServedDataset served) : IClassFixture<ServedDataset>
{
    [Fact]
    public async Task Ingest_acquires_a_url_into_blobs_and_a_second_ingest_uploads_nothing()
    {
        var ingest = served.Services.GetRequiredService<IngestActivity>();
        var input = new IngestInput("served-shapes", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 5);

        var first = await ingest.RunAsync(input);

        Assert.Equal(12, first.Photos);
        Assert.Equal(12, first.Uploaded);
        Assert.Equal(3, first.Classes);
        Assert.Equal(4, first.ShardCount); // 12 photos, at most 5 a shard: the next power of two of buckets
        Assert.Equal(12, first.TrainCount + first.TestCount);
        var datasets = served.Services.GetRequiredService<FlowersStorage>().Datasets;
        var photo = datasets.GetBlobClient(StorageNames.DatasetPhotoBlob("served-shapes", "circle", "0.jpg"));
        var properties = (await photo.GetPropertiesAsync()).Value;
        Assert.Equal(64, properties.Metadata[StorageNames.ContentHashMetadata].Length);
        var manifest = Split.SplitManifest.FromJson((await datasets.GetBlobClient(first.ManifestBlob).DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(SyntheticPhotos.Classes.Order(), manifest.Classes);
        Assert.Equal(12, manifest.Entries.Count);

        var uploads = served.Traffic.Count("PUT", $"/{StorageNames.Datasets}/served-shapes/circle/");
        var second = await ingest.RunAsync(input);

        Assert.Equal(0, second.Uploaded);
        Assert.Equal(first with { Uploaded = 0 }, second);
        Assert.Equal(uploads, served.Traffic.Count("PUT", $"/{StorageNames.Datasets}/served-shapes/circle/"));
        Assert.Equal(properties.ETag, (await photo.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task Ingest_itself_refuses_a_private_address_unless_allowed()
    {
        var strict = new IngestActivity(served.Services.GetRequiredService<FlowersStorage>(), new TrainingSettings(), NullLogger<IngestActivity>.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            strict.RunAsync(new IngestInput("refused", served.Url, 0.2, 2018, 8)));

        Assert.Contains("loopback", error.Message);
    }
}
