using Azure.Storage.Blobs;
using Flowers.Pipeline;
using Flowers.Testing;

namespace Flowers.LocalHost.Tests;

/// <summary>What the local-host tests share: a folder of drawn photos, a client, and waiting for a run.</summary>
internal static class LocalRun
{
    public const string Key = "test-function-key";

    /// <summary>A data set of drawn photos: <paramref name="perClass"/> per class of <see cref="SyntheticPhotos.Classes"/>.</summary>
    public static string PhotoFolder(int perClass) => SyntheticPhotos.WriteFolder(perClass, "flowers-localhost-");

    public static PipelineClient Client(Uri baseAddress, string connection, string key = Key) =>
        new(new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) }, key, new BlobServiceClient(connection));

    public static async Task<TrainingRunView> WaitAsync(PipelineClient client, string id, TimeSpan timeout, Func<TrainingRunView, bool>? until = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            TrainingRunView? run = null;
            try { run = await client.GetRunAsync(id, cts.Token); }
            catch (HttpRequestException) { }   // host restarting
            if (run is not null && (until?.Invoke(run) ?? run.RuntimeStatus is "Completed" or "Failed" or "Terminated")) return run;
            await Task.Delay(200, cts.Token);
        }
    }
}
