using Flowers.Evaluate;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>One training run on a data set salted with bad and odd photos, then the same files labelled.</summary>
public sealed class BadPhotoRun : IAsyncLifetime
{
    public LocalHostRun Run { get; private set; } = null!;
    public Pipeline.TrainingRunView Trained { get; private set; } = null!;
    public RunMetrics Metrics { get; private set; } = null!;
    public string ModelFolder { get; } = Directory.CreateTempSubdirectory("flowers-reliability-model-").FullName;
    public string DataSet { get; } = LocalHostRun.PhotoFolder(perClass: 12);

    public async Task InitializeAsync()
    {
        Run = await LocalHostRun.StartAsync("BadPhotoHub");
        foreach (var (name, bytes) in BadPhotos.Unreadable()) File.WriteAllBytes(Path.Combine(DataSet, "circle", name), bytes);
        foreach (var (name, bytes, photoClass) in BadPhotos.Readable()) File.WriteAllBytes(Path.Combine(DataSet, photoClass, name), bytes);
        var id = await Run.Client.StartTrainingAsync(new { source = DataSet, shardSize = 8 });
        Trained = await Run.WaitAsync(id, TimeSpan.FromMinutes(5));
        if (Trained.Result?.PublishedModelId is { } model)
        {
            await Run.Client.DownloadModelAsync(model, ModelFolder);
            Metrics = RunMetrics.FromJson(File.ReadAllText(Path.Combine(ModelFolder, "metrics.json")));
        }
    }

    public async Task DisposeAsync()
    {
        await Run.DisposeAsync();
        Directory.Delete(ModelFolder, recursive: true);
        Directory.Delete(DataSet, recursive: true);
    }
}

/// <summary>The tests that share one <see cref="BadPhotoRun"/> (one Azurite, one host, one training run): run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SaltedRunCollection : ICollectionFixture<BadPhotoRun>
{
    public const string Name = "salted training run";
}

[Collection(SaltedRunCollection.Name)]
public sealed class BadPhotoTests(BadPhotoRun fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Training_skips_each_unreadable_photo_by_name_and_completes()
    {
        Assert.True(fixture.Trained.RuntimeStatus == "Completed", $"{fixture.Trained.RuntimeStatus}: {fixture.Trained.Error}");
        Assert.NotNull(fixture.Metrics);
        var skipped = fixture.Metrics.Skipped.ToDictionary(s => s.Image, s => s.Reason);
        foreach (var s in skipped) output.WriteLine($"skipped {s.Key}: {s.Value}");
        foreach (var (name, _) in BadPhotos.Unreadable())
            Assert.True(skipped.ContainsKey($"circle/{name}"), $"circle/{name} not listed as skipped: {string.Join("; ", skipped.Select(s => $"{s.Key}: {s.Value}"))}");
        Assert.Equal(BadPhotos.Unreadable().Count, skipped.Count);   // the odd but readable ones are used
        Assert.Equal(36 + BadPhotos.Readable().Count, fixture.Metrics.TrainCount + fixture.Metrics.TestCount);
        Assert.Contains("empty", skipped["circle/zero-bytes.jpg"]);
        Assert.Contains("50000x50000", skipped["circle/bomb-50000x50000.png"]);
    }

    [Fact]
    public async Task Labelling_gives_each_unreadable_photo_an_error_and_labels_the_rest()
    {
        Assert.NotNull(fixture.Trained.Result?.PublishedModelId);
        var folder = Directory.CreateTempSubdirectory("flowers-reliability-uploads-").FullName;
        var unreadable = BadPhotos.Unreadable();
        var readable = BadPhotos.Readable();
        var files = unreadable.Select(p => (p.Name, p.Bytes)).Concat(readable.Select(p => (p.Name, p.Bytes)))
            .Append(("a text file.txt", "just words"u8.ToArray()))
            .Append(("a document.pdf", BadPhotos.Unreadable().Single(p => p.Name == "document-named-as-photo.jpg").Bytes))
            .Select(p => { var path = Path.Combine(folder, p.Item1); File.WriteAllBytes(path, p.Item2); return path; }).ToList();

        var results = await fixture.Run.Client.LabelAsync(files, TimeSpan.FromSeconds(90));

        var byName = files.Select((f, i) => (Name: Path.GetFileName(f), Result: results[i])).ToDictionary(p => p.Name, p => p.Result);
        foreach (var (name, r) in byName) output.WriteLine($"{name}: {r.Label ?? r.Error}");
        foreach (var line in fixture.Run.Logs.Lines.Where(l => l.StartsWith("Warning") || l.StartsWith("Error"))) output.WriteLine(line);
        foreach (var name in unreadable.Select(p => p.Name).Append("a text file.txt").Append("a document.pdf"))
        {
            Assert.Null(byName[name].Label);
            Assert.False(string.IsNullOrWhiteSpace(byName[name].Error), name);
            Assert.DoesNotContain("no result within", byName[name].Error);
        }
        foreach (var (name, _, _) in readable)
            Assert.True(byName[name].Label is not null, $"{name}: {byName[name].Error}");
        Assert.Contains("50000x50000", byName["bomb-50000x50000.png"].Error);

        // The tag is obeyed: the camera's rotated photo is the upright one to the classifier.
        var upright = byName["exif-upright.jpg"];
        var rotated = byName["exif-rotated.jpg"];
        Assert.Equal(upright.Label, rotated.Label);
        foreach (var (label, p) in upright.Probabilities!)
            Assert.True(Math.Abs(p - rotated.Probabilities![label]) < 0.05, $"{label}: upright {p:0.000}, rotated {rotated.Probabilities[label]:0.000}");
        Directory.Delete(folder, recursive: true);
    }
}
