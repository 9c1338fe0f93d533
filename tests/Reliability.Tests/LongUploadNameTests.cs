using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>
/// An upload whose result name labels/{name}.json would exceed Blob Storage's 1024 characters, waiting when a run
/// publishes: it used to fail the pass over waiting uploads with a 400 four times, so the run ended Failed after it had
/// published, and every later run too. Now the upload gets its reason and the run completes; an upload whose labelling
/// fails for another reason is logged with its name and counted, and the run completes too.
/// </summary>
public sealed class LongUploadNameTests : IAsyncLifetime
{
    private LocalHostRun _run = null!;
    private readonly string _photos = LocalHostRun.PhotoFolder(perClass: 8);

    public async Task InitializeAsync() => _run = await LocalHostRun.StartAsync("LongUploadNameHub");

    public async Task DisposeAsync()
    {
        await _run.DisposeAsync();
        Directory.Delete(_photos, recursive: true);
    }

    [Fact]
    public async Task A_run_completes_when_waiting_uploads_cannot_be_labelled_one_name_too_long_one_unservable()
    {
        var storage = new FlowersStorage(new BlobServiceClient(_run.Azurite.ConnectionString));
        await storage.EnsureContainersAsync();
        var longName = "waiting/" + new string('x', 1012); // 1020 characters: a valid upload, a 1025-character result
        const string good = "waiting/ok.jpg";
        await storage.Uploads.GetBlobClient(longName).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("circle", 7000)));
        await storage.Uploads.GetBlobClient(good).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("square", 7001)));
        // Azurite stores this name as ../../unservable.jpg and then answers 400 to every request for it: an upload whose
        // labelling fails however often it is tried (Azurite accepts 1025-character names, which Blob Storage refuses).
        await storage.Uploads.GetBlobClient(@"..\..\unservable.jpg").UploadAsync(new BinaryData(SyntheticPhotos.Jpeg("square", 7002)));

        var run = await _run.WaitAsync(await _run.Client.StartTrainingAsync(new { source = _photos, shardSize = 8 }), TimeSpan.FromMinutes(5));

        Assert.True(run.RuntimeStatus == "Completed", $"{run.RuntimeStatus}: {run.Error}");
        Assert.Equal(1, run.Result!.UploadsFailed);
        Assert.Contains(_run.Logs.Lines, l => l.Contains("Upload ../../unservable.jpg could not be labelled", StringComparison.Ordinal));
        Assert.Equal(run.Result.PublishedModelId, (await storage.Labels.GetBlobClient(good + ".json").ReadAsync<LabelResult>()).ModelId);
        var metadata = (await storage.Uploads.GetBlobClient(longName).GetPropertiesAsync()).Value.Metadata;
        Assert.StartsWith("name is too long: its result labels/{name}.json would be 1025 characters (Blob Storage allows 1024)",
            Uri.UnescapeDataString(metadata[StorageNames.LabelErrorMetadata]));
        Assert.Contains(_run.Logs.Lines, l => l.Contains($"Upload {longName} not labelled: name is too long", StringComparison.Ordinal));
    }
}
