using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The pipeline a command talks to: the local host already listening (./flowers host), or else Azurite and
/// a host of its own, in this process, for as long as the command runs.
/// </summary>
public sealed class LocalPipeline : IAsyncDisposable
{
    private readonly FlowersLocalHost? _host;
    private readonly Azurite? _azurite;
    private readonly HttpClient _http;

    private LocalPipeline(PipelineClient client, HttpClient http, FlowersLocalHost? host, Azurite? azurite)
    {
        Client = client;
        _http = http;
        _host = host;
        _azurite = azurite;
    }

    public PipelineClient Client { get; }

    /// <summary>True when no host was listening and this process runs its own.</summary>
    public bool OwnHost => _host is not null;

    public static async Task<LocalPipeline> ConnectAsync(string repositoryRoot, ILoggerFactory logging, Action<string> say, CancellationToken ct = default)
    {
        var settings = LocalSettings.Load(repositoryRoot);
        var key = FunctionKey.LoadOrCreate(repositoryRoot);
        var storage = new BlobServiceClient(settings.StorageConnection);
        if (await IsHealthyAsync(settings.Url, ct))
        {
            say($"Using the host at {settings.Url}");
            var shared = new HttpClient { BaseAddress = new Uri(settings.Url.TrimEnd('/') + "/") };
            return new LocalPipeline(new PipelineClient(shared, key, storage), shared, null, null);
        }

        var azurite = settings.UsesAzurite ? await Azurite.EnsureRunningAsync(repositoryRoot, say, ct) : null;
        try
        {
            say("Starting a local host for this command (./flowers host keeps one running)...");
            var host = await FlowersLocalHost.StartAsync(new LocalHostOptions
            {
                StorageConnection = settings.StorageConnection,
                Url = "http://127.0.0.1:0",
                FunctionKey = key,
                Training = settings.Training,
                Telemetry = settings.Telemetry,
            }, logging, ct);
            var http = new HttpClient { BaseAddress = host.BaseAddress };
            return new LocalPipeline(new PipelineClient(http, key, storage), http, host, azurite);
        }
        catch
        {
            if (azurite is not null) await azurite.DisposeAsync();
            throw;
        }
    }

    public static async Task<bool> IsHealthyAsync(string url, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(url.TrimEnd('/') + "/api/health", ct);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_host is not null) await _host.DisposeAsync();
        if (_azurite is not null) await _azurite.DisposeAsync();
    }
}
