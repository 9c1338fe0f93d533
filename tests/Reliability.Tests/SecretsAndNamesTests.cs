using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>What an operator or user can see never holds the storage key; names that users choose never become paths.</summary>
[Collection(SaltedRunCollection.Name)]
public sealed class SecretsAndNamesTests(BadPhotoRun fixture)
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

        var keyPart = AzuriteInstance.AccountKey[..24];
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
            var result = await storage.Labels.GetBlobClient(StorageNames.LabelBlob(upload.Name)).ReadOrDefaultAsync<LabelResult>();
            // Azurite stores a backslash as '/', so the name it lists (and the log names) is "../../x.jpg", which it then will not serve.
            var listed = upload.Name.Replace('\\', '/');
            var named = fixture.Run.Logs.Lines.Any(l => l.Contains($"upload {listed} failed", StringComparison.Ordinal));
            Assert.True(result?.Label is not null || named, $"{name}: neither labelled nor named in a log line");
        }
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, name))));
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
