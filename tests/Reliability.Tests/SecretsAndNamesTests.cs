using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.LocalHost;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>What an operator or user can see never holds the storage key; names that users choose never become paths.</summary>
[Collection(SaltedRunCollection.Name)]
public sealed class SecretsAndNamesTests(BadPhotoRun fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task The_account_key_is_in_no_log_line_no_run_view_and_no_model_file()
    {
        Assert.NotNull(fixture.Metrics);
        // Something for the logs to have said: a run, labels, and a failing request.
        Assert.NotEmpty(fixture.Run.Logs.Lines);
        var seen = fixture.Run.Logs.Lines.ToList();
        using var http = new HttpClient { BaseAddress = fixture.Run.Host.BaseAddress };
        seen.Add(await http.GetStringAsync($"api/training/{fixture.Trained.Id}?code={LocalHostRun.Key}"));
        seen.Add(await http.GetStringAsync($"api/models/current?code={LocalHostRun.Key}"));
        seen.AddRange(Directory.EnumerateFiles(fixture.ModelFolder).Where(f => !f.EndsWith(".zip")).Select(File.ReadAllText));
        // The run report page and its pictures, as the host serves them (bytes as Latin-1: text chunks of a picture show too).
        var model = fixture.Trained.Result!.PublishedModelId!;
        foreach (var file in StorageNames.ReportFiles)
        {
            var bytes = await http.GetByteArrayAsync($"api/models/{model}/report/{file}?code={LocalHostRun.Key}");
            Assert.NotEmpty(bytes);
            seen.Add(System.Text.Encoding.Latin1.GetString(bytes));
        }
        Assert.Contains(seen, page => page.Contains("<html", StringComparison.OrdinalIgnoreCase));

        var keyPart = Azurite.AccountKey[..24];
        Assert.DoesNotContain(seen, line => line.Contains(keyPart, StringComparison.Ordinal));
        Assert.DoesNotContain(seen, line => line.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(seen, line => line.Contains(LocalHostRun.Key, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../../x.jpg")]
    [InlineData("..\\..\\x.jpg")]
    [InlineData("/etc/passwd.jpg")]
    public async Task A_hostile_upload_name_touches_no_file_and_does_not_stop_other_labels(string name)
    {
        Assert.NotNull(fixture.Trained.Result?.PublishedModelId);
        var storage = new FlowersStorage(new BlobServiceClient(fixture.Run.Azurite.ConnectionString));
        var upload = storage.Uploads.GetBlobClient(name);
        var refused = false;
        try { await upload.UploadAsync(BinaryData.FromBytes(SyntheticPhotos.Jpeg("circle", 4242)), overwrite: true); }
        catch (Azure.RequestFailedException e) when (e.Status == 400) { refused = true; }   // storage refuses the name itself

        // A plain photo uploaded after it is still labelled.
        var after = Path.Combine(Directory.CreateTempSubdirectory("flowers-reliability-after-").FullName, "after.jpg");
        File.WriteAllBytes(after, SyntheticPhotos.Jpeg("square", 4243));
        var results = await fixture.Run.Client.LabelAsync([after], TimeSpan.FromSeconds(60));
        Assert.True(results[0].Label is not null, results[0].Error);

        if (!refused)
        {
            // Azurite stores a backslash as '/', so the name it lists (and the log names) is "../../x.jpg", which it then will not serve.
            var listed = upload.Name.Replace('\\', '/');
            // Uploads are labelled side by side, so the later photo's label does not mean this one is done: wait for its outcome.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            bool Settled(LabelResult? r) => r?.Label is not null || fixture.Run.Logs.Lines.Any(l => l.Contains($"upload {listed} failed", StringComparison.Ordinal));
            LabelResult? result;
            while (!Settled(result = await storage.Labels.GetBlobClient(StorageNames.LabelBlob(upload.Name)).ReadOrDefaultAsync<LabelResult>())
                   && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.True(Settled(result), $"{name}: neither labelled nor named in a log line within 30 s");
        }
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, name))));
    }

    [Fact]
    public async Task An_upload_that_storage_will_not_serve_is_retried_with_a_growing_pause()
    {
        // Azurite stores a backslash as '/' and then refuses to serve "../../name" (400): this upload fails on every try.
        var name = $"..\\..\\backoff-{Guid.NewGuid():N}.jpg";
        var listed = name.Replace('\\', '/');
        var storage = new FlowersStorage(new BlobServiceClient(fixture.Run.Azurite.ConnectionString));
        await storage.Uploads.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(SyntheticPhotos.Jpeg("circle", 4244)), overwrite: true);
        int Warnings() => fixture.Run.Logs.Lines.Count(l => l.StartsWith("Warning") && l.Contains($"upload {listed} failed", StringComparison.Ordinal));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Warnings() == 0) await Task.Delay(100, timeout.Token);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(6));
        var count = Warnings();
        try { await storage.Uploads.GetBlobClient(name).DeleteIfExistsAsync(); }
        catch (Azure.RequestFailedException) { }   // storage may refuse this name for a delete too; it is only retried, ever more slowly

        // Every 250 ms would be ~24 warnings in 6 s; with the pause doubling from 250 ms it is ~5 (0.25+0.5+1+2+4 s).
        output.WriteLine($"{count} warnings for {listed} in the {watch.Elapsed.TotalSeconds:0.0} s after the first");
        Assert.InRange(count, 2, 8);
    }

    [Fact]
    public async Task Downloading_a_model_writes_only_inside_the_folder_whatever_its_blob_names()
    {
        var model = fixture.Trained.Result!.PublishedModelId!;
        var storage = new FlowersStorage(new BlobServiceClient(fixture.Run.Azurite.ConnectionString));
        foreach (var hostile in new[] { "..\\..\\escaped.txt", "sub/../../escaped.txt", "%2e%2e/escaped.txt" })
            await storage.Models.GetBlobClient($"{model}/{hostile}").UploadAsync(BinaryData.FromString("escaped"), overwrite: true);

        var parent = Directory.CreateTempSubdirectory("flowers-reliability-download-").FullName;
        var target = Path.Combine(parent, "model");
        var files = await fixture.Run.Client.DownloadModelAsync(model, target);

        Assert.All(files, f => Assert.StartsWith(target + Path.DirectorySeparatorChar, Path.GetFullPath(f)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(parent).Where(e => e != target));
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "escaped.txt")));
        Directory.Delete(parent, recursive: true);
    }
}
