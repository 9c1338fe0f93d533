using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Pipeline;
using Flowers.Storage;

namespace Flowers.LocalHost;

/// <summary>A request the pipeline refused (400, 401, 404, 409): the message is the app's own.</summary>
public sealed class PipelineRequestException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// What the command line does with a running pipeline: start and follow training runs through the HTTP API
/// (exactly as curl against the Functions app would), fetch a model's files, and label photos by uploading
/// them and waiting for their results, like any user of the storage account.
/// </summary>
public sealed class PipelineClient(HttpClient http, string functionKey, BlobServiceClient storage)
{
    private readonly FlowersStorage _storage = new(storage);

    public Uri BaseAddress => http.BaseAddress!;

    /// <summary>Starts a run; its id.</summary>
    public async Task<string> StartTrainingAsync(object body, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/training", JsonContent.Create(body, options: BlobJson.Options), ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(BlobJson.Options, ct);
        return started.GetProperty("id").GetString()!;
    }

    public async Task<TrainingRunView> GetRunAsync(string id, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Get, $"api/training/{Uri.EscapeDataString(id)}", null, ct);
        return (await response.Content.ReadFromJsonAsync<TrainingRunView>(BlobJson.Options, ct))!;
    }

    /// <summary>
    /// How often <see cref="WaitForRunAsync"/> asks. Each ask goes through the host, the durable client and a
    /// storage query, CPU taken from the run it watches; a progress display needs no more than one a second.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Polls the run until it ends, reporting each view; the last view.</summary>
    public async Task<TrainingRunView> WaitForRunAsync(string id, IProgress<TrainingRunView>? progress = null, CancellationToken ct = default)
    {
        while (true)
        {
            var run = await GetRunAsync(id, ct);
            progress?.Report(run);
            if (run.RuntimeStatus is "Completed" or "Failed" or "Terminated") return run;
            await Task.Delay(PollInterval, ct);
        }
    }

    /// <summary>Copies every file of models/{modelId}/ (package, metrics, report) into <paramref name="directory"/>.</summary>
    public async Task<IReadOnlyList<string>> DownloadModelAsync(string modelId, string directory, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        await foreach (var blob in _storage.Models.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = modelId + "/" }, ct))
        {
            var name = blob.Name[(modelId.Length + 1)..];
            if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name is "." or "..") continue;
            var path = Path.Combine(directory, name);
            await _storage.Models.GetBlobClient(blob.Name).DownloadToAsync(path, ct);
            files.Add(path);
        }
        return files;
    }

    /// <summary>
    /// Uploads each photo under a fresh name and waits for its labels/{name}.json; results in input order.
    /// A photo whose result does not come within <paramref name="timeout"/> gets an error result saying so.
    /// </summary>
    public async Task<IReadOnlyList<LabelResult>> LabelAsync(IReadOnlyList<string> files, TimeSpan timeout, CancellationToken ct = default)
    {
        await _storage.EnsureContainersAsync(ct);
        var batch = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss") + "-" + Guid.NewGuid().ToString("N")[..6];
        var names = files.Select((file, i) => $"cli/{batch}/{i:D4}-{Path.GetFileName(file)}").ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), ct, async (i, token) =>
            await _storage.Uploads.GetBlobClient(names[i]).UploadAsync(files[i], token));

        var results = new LabelResult?[files.Count];
        var index = names.Select((name, i) => (StorageNames.LabelBlob(name), i)).ToDictionary(p => p.Item1, p => p.i);
        var seen = new Dictionary<string, Azure.ETag>();
        var deadline = DateTime.UtcNow + timeout;
        while (results.Any(r => r is null or { Pending: true }) && DateTime.UtcNow < deadline)
        {
            // One listing a poll, reading only results that are new or changed: a GET per photo per poll would load
            // the storage account (and, locally, the machine) that the hosts label on.
            var fresh = new List<(int Index, string Blob)>();
            await foreach (var blob in _storage.Labels.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"cli/{batch}/" }, ct))
                if (index.TryGetValue(blob.Name, out var i) && results[i] is null or { Pending: true }
                    && (!seen.TryGetValue(blob.Name, out var etag) || etag != blob.Properties.ETag))
                {
                    seen[blob.Name] = blob.Properties.ETag!.Value;
                    fresh.Add((i, blob.Name));
                }
            await Parallel.ForEachAsync(fresh, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (f, token) =>
                results[f.Index] = await _storage.Labels.GetBlobClient(f.Blob).ReadOrDefaultAsync<LabelResult>(token));
            // Each poll lists every result of the batch: the more photos still wait, the longer they take anyway and the
            // less often a poll pays (100 ms for a few, 2 ms a waiting photo, at most 1 s).
            var waiting = results.Count(r => r is null or { Pending: true });
            if (waiting > 0) await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(2.0 * waiting, 100, 1000)), ct);
        }
        return results.Select((r, i) => r is { Pending: false } ? r
            : new LabelResult(names[i], null, null, null, null, DateTimeOffset.UtcNow,
                r?.Error ?? $"no result within {timeout.TotalSeconds:0} s (is a host running with a published model?)")).ToList();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("x-functions-key", functionKey);
        var response = await http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode) return response;
        var text = await response.Content.ReadAsStringAsync(ct);
        response.Dispose();
        string message;
        try { message = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString() ?? text; }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { message = text; }
        throw new PipelineRequestException(response.StatusCode, $"{(int)response.StatusCode} {response.StatusCode}: {message}");
    }
}
