using System.Net;
using System.Net.Http.Json;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flowers.LocalHost.Tests;

/// <summary>
/// The whole product through the local host's HTTP API, on the real durable backend (Azure Storage
/// provider on Azurite) with the real featurizer: train, publish, then label uploads.
/// </summary>
public sealed class LocalHostCycleTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private FlowersLocalHost _host = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteInstance.StartNewAsync();
        _host = await FlowersLocalHost.StartAsync(new LocalHostOptions
        {
            StorageConnection = _azurite.ConnectionString,
            Url = "http://127.0.0.1:0",
            FunctionKey = LocalRun.Key,
            TaskHub = "CycleHub",
            Training = new Pipeline.TrainingSettings { AllowLocalSources = true },
        }, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    [Fact]
    public async Task Train_publish_and_label_through_the_http_api()
    {
        var client = LocalRun.Client(_host.BaseAddress, _azurite.ConnectionString);
        var photos = LocalRun.PhotoFolder(perClass: 12);

        var id = await client.StartTrainingAsync(new { source = photos, shardSize = 8 });
        var conflict = await Assert.ThrowsAsync<PipelineRequestException>(() => client.StartTrainingAsync(new { source = photos }));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);

        var run = await LocalRun.WaitAsync(client, id, TimeSpan.FromMinutes(4));
        Assert.True(run.RuntimeStatus == "Completed", $"{run.RuntimeStatus}: {run.Error}");
        var modelId = run.Result!.PublishedModelId;
        Assert.NotNull(modelId);
        Assert.Equal(36, run.Result.Photos);
        Assert.True(run.Result.Metrics.Accuracy >= 0.6, $"accuracy {run.Result.Metrics.Accuracy} on drawn shapes");

        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        using var current = await http.GetAsync($"api/models/current?code={LocalRun.Key}");
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Contains(modelId!, await current.Content.ReadAsStringAsync());

        // The run's report: the page and its pictures, nothing else of the model folder, and only with the key.
        using var page = await http.GetAsync($"api/models/{modelId}/report?code={LocalRun.Key}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains(modelId!, await page.Content.ReadAsStringAsync());
        using var confusion = await http.GetAsync($"api/models/{modelId}/report/confusion.png?code={LocalRun.Key}");
        Assert.Equal("image/png", confusion.Content.Headers.ContentType!.ToString());
        Assert.Equal(0x89, (await confusion.Content.ReadAsByteArrayAsync())[0]);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/models/{modelId}/report/model.flowers?code={LocalRun.Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"api/models/{modelId}/report")).StatusCode);

        // The watcher labels uploads, as the blob trigger does in Azure.
        var files = new[] { "circle", "square", "stripes" }.Select((c, i) =>
        {
            var path = Path.Combine(Path.GetTempPath(), $"upload-{Guid.NewGuid():N}-{c}.jpg");
            File.WriteAllBytes(path, SyntheticPhotos.Jpeg(c, 1000 + i));
            return path;
        }).Append(WriteText("not a photo")).ToList();
        var results = await client.LabelAsync(files, TimeSpan.FromSeconds(60));
        Assert.All(results.Take(3), r => Assert.Equal(modelId, r.ModelId));
        Assert.True(results.Take(3).Count(r => r.Label is not null && files[results.ToList().IndexOf(r)].EndsWith(r.Label + ".jpg")) >= 2,
            string.Join(", ", results.Select(r => r.Label ?? r.Error)));
        Assert.Null(results[3].Label);
        Assert.NotNull(results[3].Error);
    }

    [Fact]
    public async Task Every_route_but_health_needs_the_function_key()
    {
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsJsonAsync("api/training", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/models/current?code=wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/models/current?code={LocalRun.Key}")).StatusCode);
        using var bad = await http.PostAsync($"api/training?code={LocalRun.Key}", new StringContent("{\"blobPrefix\": \"some-photos\", \"testFraction\": 2}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("testFraction", await bad.Content.ReadAsStringAsync());
    }

    private static string WriteText(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"upload-{Guid.NewGuid():N}.jpg");
        File.WriteAllText(path, text);
        return path;
    }
}
