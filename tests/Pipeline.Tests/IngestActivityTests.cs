using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Flowers.Acquire;
using Flowers.LocalHost;
using Flowers.Split;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowers.Pipeline.Tests;

/// <summary>An Azurite of its own, private sources allowed (the archive is served on 127.0.0.1), and a zip of synthetic photos served over HTTP.</summary>
public sealed class ServedDataset : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;
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
                // A JPEG cut short: a photo by its header, so it is packed, and fails only itself when decoded.
                await using (var cut = zip.CreateEntry("shapes/circle/cut.jpg").Open())
                    await cut.WriteAsync(SyntheticPhotos.Jpeg("circle", 6000).AsMemory(0, 200));
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
    private IngestActivity Ingest => served.Services.GetRequiredService<IngestActivity>();
    private BlobContainerClient Datasets => served.Services.GetRequiredService<FlowersStorage>().Datasets;

    private async Task<SplitManifest> ManifestAsync(IngestResult ingested) =>
        SplitManifest.FromJson((await Datasets.GetBlobClient(ingested.ManifestBlob).DownloadContentAsync()).Value.Content.ToString());

    private async Task<List<string>> PacksAsync(string dataset)
    {
        var packs = new List<string>();
        await foreach (var blob in Datasets.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"{dataset}/{StorageNames.PhotoPackPrefix}" })) packs.Add(blob.Name);
        return packs;
    }

    [Fact]
    public async Task Ingest_packs_a_url_one_blob_a_shard_and_a_second_ingest_uploads_nothing()
    {
        var input = new IngestInput("served-shapes", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 5);

        var first = await Ingest.RunAsync(input);

        Assert.Equal(13, first.Photos);
        Assert.Equal(13, first.Uploaded);
        Assert.Equal(3, first.Classes);
        Assert.Equal(4, first.ShardCount); // 13 photos, at most 5 a shard: the next power of two of buckets
        Assert.Equal(13, first.TrainCount + first.TestCount);
        var manifest = await ManifestAsync(first);
        Assert.Equal(SyntheticPhotos.Classes.Order(), manifest.Classes);
        Assert.Equal(13, manifest.Entries.Count);
        // Each shard's photos are in one pack of their own, and each pack holds the bytes its entry names say.
        var shards = Enumerable.Range(0, first.ShardCount).Select(shard => FeatureShardPlan.Entries(manifest, shard, first.ShardCount)).Where(e => e.Count > 0).ToList();
        Assert.All(shards, entries => Assert.Single(entries.Select(e => e.Pack).Distinct()));
        Assert.Equal(shards.Count, manifest.Entries.Select(e => e.Pack).Distinct().Count());
        var packs = await PacksAsync("served-shapes");
        Assert.Equal(manifest.Entries.Select(e => StorageNames.PhotoPackBlob("served-shapes", e.Pack!)).Distinct().Order(), packs.Order());
        var photos = 0;
        foreach (var pack in packs)
            await foreach (var (hash, photo) in PhotoPack.ReadAsync((await Datasets.GetBlobClient(pack).DownloadContentAsync()).Value.Content.ToStream(), wanted: null))
            {
                Assert.Equal(hash, Convert.ToHexStringLower(SHA256.HashData(photo)));
                photos++;
            }
        Assert.Equal(13, photos);
        Assert.False(await Datasets.GetBlobClient(StorageNames.DatasetPhotoBlob("served-shapes", "circle", "0.jpg")).ExistsAsync());
        var etags = new List<ETag>();
        foreach (var pack in packs) etags.Add((await Datasets.GetBlobClient(pack).GetPropertiesAsync()).Value.ETag);

        var writes = served.Traffic.Count("PUT", $"/{StorageNames.Datasets}/served-shapes/{StorageNames.PhotoPackPrefix}");
        var second = await Ingest.RunAsync(input);

        Assert.Equal(first with { Uploaded = 0 }, second);
        Assert.Equal(writes, served.Traffic.Count("PUT", $"/{StorageNames.Datasets}/served-shapes/{StorageNames.PhotoPackPrefix}"));
        foreach (var (pack, etag) in packs.Zip(etags)) Assert.Equal(etag, (await Datasets.GetBlobClient(pack).GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task A_run_without_a_source_splits_the_photos_of_the_last_ingests_packs_again()
    {
        var fromSource = await Ingest.RunAsync(new IngestInput("served-again", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 5));
        var packs = await PacksAsync("served-again");
        var packOf = (await ManifestAsync(fromSource)).Entries.ToDictionary(e => e.Image, e => e.Pack);

        var again = await Ingest.RunAsync(new IngestInput("served-again", SourceUrl: null, TestFraction: 0.5, Seed: 7, ShardSize: 5));

        Assert.Equal(0, again.Uploaded);
        Assert.Equal(13, again.Photos);
        Assert.Equal(fromSource.DatasetFingerprint, again.DatasetFingerprint);
        var manifest = await ManifestAsync(again);
        var expected = DatasetSplitter.Split(manifest.Classes, manifest.Entries.Select(e => (e.Class, e.Name, e.ContentHash)), new SplitOptions(0.5, 7));
        Assert.Equal(expected.Entries.Select(e => (e.Image, e.Side)), manifest.Entries.Select(e => (e.Image, e.Side)));
        Assert.Equal(expected.Test.Count(), again.TestCount);
        Assert.NotEqual(fromSource.TestCount, again.TestCount);
        Assert.Equal(packOf.Keys.Order(), manifest.Entries.Select(e => e.Image).Order());
        Assert.All(manifest.Entries, e => Assert.Equal(packOf[e.Image], e.Pack));
        Assert.Equal(packs, await PacksAsync("served-again"));
    }

    [Fact]
    public async Task Another_shard_size_repacks_and_deletes_the_packs_no_manifest_names()
    {
        await Ingest.RunAsync(new IngestInput("served-repack", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 5));
        var before = await PacksAsync("served-repack");

        var one = await Ingest.RunAsync(new IngestInput("served-repack", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 100));

        Assert.Equal((1, 13), (one.ShardCount, one.Uploaded));
        var after = Assert.Single(await PacksAsync("served-repack"));
        Assert.DoesNotContain(after, before);
        Assert.All((await ManifestAsync(one)).Entries, e => Assert.Equal(after, StorageNames.PhotoPackBlob("served-repack", e.Pack!)));
    }

    [Fact]
    public async Task Packed_photos_are_featurized_a_cut_one_fails_alone_and_a_lost_pack_fails_its_shard_by_name()
    {
        // One shard of all 13 photos (no other test featurizes that set: feature shards are keyed by content).
        var input = new IngestInput("served-featurize", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 100);
        var ingested = await Ingest.RunAsync(input);
        var manifest = await ManifestAsync(ingested);
        var pack = StorageNames.PhotoPackBlob("served-featurize", manifest.Entries[0].Pack!);
        await Datasets.DeleteBlobAsync(pack);
        var featurize = served.Services.GetRequiredService<FeaturizeShardActivity>();
        var shard = new FeaturizeShardInput("served-featurize", ingested.ManifestBlob, 0, 1);

        var lost = await Assert.ThrowsAsync<UnusableDatasetException>(() => featurize.RunAsync(shard));

        Assert.Contains($"{StorageNames.Datasets}/{pack} is gone", lost.Message);
        Assert.Null((await featurize.FindDoneAsync(new FeatureShardsInput("served-featurize", ingested.ManifestBlob, 1)))[0]); // nothing marked skipped

        Assert.Equal(13, (await Ingest.RunAsync(input)).Uploaded); // written again from the source
        var result = await featurize.RunAsync(shard);

        Assert.Equal((13, 12, 1), (result.Photos, result.Featurized, result.Skipped));
        var cut = manifest.Entries.Single(e => e.Name == "cut.jpg");
        var features = served.Services.GetRequiredService<FlowersStorage>().Features;
        var skipped = Assert.Single((await features.GetBlobClient(Path.ChangeExtension(result.ShardBlob, ".json")).ReadAsync<FeatureShardSummary>()).Skipped);
        Assert.Equal(cut.ContentHash, skipped.ContentHash);
        Assert.False(string.IsNullOrWhiteSpace(skipped.Reason));
        var pictured = manifest.Entries.Where(e => e.Side == SplitSide.Test).Take(2).ToList();
        var read = await served.Services.GetRequiredService<DatasetPhotos>().ReadSomeAsync("served-featurize", pictured, default);
        Assert.Equal(pictured.Select(e => e.Image).Order(), read.Keys.Order());
        Assert.All(pictured, e => Assert.Equal(e.ContentHash, Convert.ToHexStringLower(SHA256.HashData(read[e.Image]!))));
    }

    [Fact]
    public async Task Shards_download_the_manifest_once_and_again_when_an_ingest_rewrites_it()
    {
        var featurize = served.Services.GetRequiredService<FeaturizeShardActivity>();
        var small = await Ingest.RunAsync(new IngestInput("served-manifest", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 5));
        var path = $"/{StorageNames.Datasets}/{small.ManifestBlob}";
        var downloads = served.Traffic.Count("GET", path);

        await featurize.FindDoneAsync(new FeatureShardsInput("served-manifest", small.ManifestBlob, small.ShardCount));
        await featurize.FindDoneAsync(new FeatureShardsInput("served-manifest", small.ManifestBlob, small.ShardCount));

        Assert.Equal(downloads + 1, served.Traffic.Count("GET", path));

        // Repacked into one shard (the old packs are deleted): the shard reads the new manifest.
        var one = await Ingest.RunAsync(new IngestInput("served-manifest", served.Url, TestFraction: 0.25, Seed: 2018, ShardSize: 100));
        downloads = served.Traffic.Count("GET", path);
        var result = await featurize.RunAsync(new FeaturizeShardInput("served-manifest", one.ManifestBlob, 0, one.ShardCount));

        Assert.Equal(13, result.Photos);
        Assert.Equal(downloads + 1, served.Traffic.Count("GET", path));
    }

    [Fact]
    public async Task Ingest_itself_refuses_a_private_address_unless_allowed()
    {
        var strict = new IngestActivity(served.Services.GetRequiredService<FlowersStorage>(), served.Services.GetRequiredService<SplitManifests>(),
            served.Services.GetRequiredService<DatasetPhotos>(), new TrainingSettings(), NullLogger<IngestActivity>.Instance);

        var error = await Assert.ThrowsAsync<RefusedSourceException>(() =>
            strict.RunAsync(new IngestInput("refused", served.Url, 0.2, 2018, 8)));

        Assert.Contains("loopback", error.Message);
    }
}
