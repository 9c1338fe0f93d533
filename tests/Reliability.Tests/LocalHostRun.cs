using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Flowers.LocalHost;
using Flowers.Pipeline;
using Flowers.Testing;
using Microsoft.Extensions.Logging;

namespace Flowers.Reliability.Tests;

/// <summary>
/// An Azurite of its own and the real local host on it (durable backend, featurizer, upload watcher), with every
/// log line the host writes kept, so tests can read what an operator would see.
/// </summary>
public sealed class LocalHostRun : IAsyncDisposable
{
    public const string Key = "reliability-function-key";

    public required Azurite Azurite { get; init; }
    public required FlowersLocalHost Host { get; init; }
    public required CapturedLogs Logs { get; init; }
    public PipelineClient Client => new(new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) }, Key,
        new BlobServiceClient(Azurite.ConnectionString));

    public static async Task<LocalHostRun> StartAsync(string taskHub, Azurite? azurite = null)
    {
        azurite ??= await AzuriteInstance.StartNewAsync();
        var logs = new CapturedLogs();
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var host = await FlowersLocalHost.StartAsync(new LocalHostOptions
        {
            StorageConnection = azurite.ConnectionString,
            Url = "http://127.0.0.1:0",
            FunctionKey = Key,
            TaskHub = taskHub,
            Training = new TrainingSettings { AllowLocalSources = true },
        }, loggerFactory);
        return new LocalHostRun { Azurite = azurite, Host = host, Logs = logs };
    }

    /// <summary>Polls the run until it ends (or <paramref name="until"/> holds).</summary>
    public async Task<TrainingRunView> WaitAsync(string id, TimeSpan timeout, Func<TrainingRunView, bool>? until = null)
    {
        var client = Client;
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            TrainingRunView? run = null;
            try { run = await client.GetRunAsync(id, cts.Token); }
            catch (HttpRequestException) { }   // storage or host briefly away
            catch (PipelineRequestException) { }
            if (run is not null && (until?.Invoke(run) ?? run.RuntimeStatus is "Completed" or "Failed" or "Terminated")) return run;
            await Task.Delay(200, cts.Token);
        }
    }

    /// <summary>A data set folder of drawn photos: <paramref name="perClass"/> per class of <see cref="SyntheticPhotos.Classes"/>.</summary>
    public static string PhotoFolder(int perClass) => SyntheticPhotos.WriteFolder(perClass, "flowers-reliability-");

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

/// <summary>Every formatted log message (and exception text) of a logger factory.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The structured values too: a secret passed as a parameter but not in the template still leaks to sinks.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {values} {exception}");
        }
    }
}
