using Azure.Storage.Blobs;
using Flowers.Labelling;
using Flowers.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The Functions app without the Functions host: the same orchestrator and activities on a Durable Task
/// worker (durable backend: <see cref="DurableBackend"/>), the same HTTP routes on 127.0.0.1:7071
/// (<see cref="HttpRoutes"/>) and a watcher that labels new uploads (<see cref="UploadWatcher"/>).
/// </summary>
public sealed class FlowersLocalHost : IAsyncDisposable
{
    private readonly DurableBackend _backend;
    private readonly WebApplication _app;
    private readonly ServiceProvider _pipeline;
    private readonly UploadWatcher _watcher;
    private readonly Task _warmup;
    private readonly LocalTelemetry? _telemetry;

    private FlowersLocalHost(DurableBackend backend, WebApplication app, ServiceProvider pipeline, UploadWatcher watcher, Task warmup, LocalTelemetry? telemetry)
    {
        _telemetry = telemetry;
        _backend = backend;
        _app = app;
        _pipeline = pipeline;
        _watcher = watcher;
        _warmup = warmup;
    }

    public Uri BaseAddress => new(_app.Urls.First());
    public DurableTaskClient Client => _app.Services.GetRequiredService<DurableTaskClient>();
    public IServiceProvider Pipeline => _pipeline;

    /// <summary>
    /// An ASP.NET Core builder for the host's two web servers (HTTP routes, durable backend) that reads no
    /// appsettings.json from the working folder and watches none: by default each would watch the working folder and
    /// every folder under it for a settings file (a repository with node_modules: 6,000 folders), on a thread that
    /// then wakes for every file written there. The local host's settings come from local.settings.json.
    /// </summary>
    internal static WebApplicationBuilder WebBuilder() => WebApplication.CreateSlimBuilder(new WebApplicationOptions
    {
        ContentRootPath = AppContext.BaseDirectory,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    });

    public static async Task<FlowersLocalHost> StartAsync(LocalHostOptions options, ILoggerFactory loggerFactory, CancellationToken ct = default)
    {
        var telemetry = LocalTelemetry.Start(options.Telemetry); // first, so the first upload's labelling is recorded too
        // The pipeline's services (storage, featurizer, activities, labeller) are the ones the Functions app registers.
        var pipeline = new ServiceCollection()
            .AddSingleton(loggerFactory)
            .AddLogging()
            .AddSingleton(new BlobServiceClient(options.StorageConnection))
            .AddTrainingPipeline(options.Training)
            .BuildServiceProvider();

        // Labelling needs neither the durable backend nor the HTTP routes: the featurizer, the published model and
        // the upload watcher start first, so a photo waiting when the host starts is labelled while the rest comes up.
        var warmup = pipeline.GetRequiredService<ModelWarmup>().RunAsync(CancellationToken.None);
        var watcher = new UploadWatcher(pipeline.GetRequiredService<Flowers.Storage.FlowersStorage>(),
            pipeline.GetRequiredService<UploadLabeller>(), options, loggerFactory.CreateLogger<UploadWatcher>());
        await watcher.StartAsync(ct);
        DurableBackend? backend = null;
        try
        {
            // Composing the durable backend and the HTTP routes takes CPU that a waiting upload's first label needs for
            // the featurizer's session and the model, so they start once those are ready; a warm-up that cannot
            // finish (storage not up yet) holds them back a few seconds at most.
            await Task.WhenAny(warmup, Task.Delay(TimeSpan.FromSeconds(5), ct));
            // Photos that waited for the host are labelled next (for a second at most, should there be many).
            await Task.WhenAny(watcher.FirstLook, Task.Delay(TimeSpan.FromSeconds(1), ct));
            backend = await DurableBackend.StartAsync(options.StorageConnection, options.TaskHub, loggerFactory, ct);

            var builder = WebBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(loggerFactory);
            builder.WebHost.UseUrls(options.Url);
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(pipeline.GetRequiredService<Flowers.Api.FlowersApi>());
            builder.Services.AddSingleton(pipeline.GetRequiredService<UploadLabeller>());
            builder.Services.AddSingleton(pipeline.GetRequiredService<Flowers.Storage.FlowersStorage>());
            builder.Services.AddDurableTaskWorker(worker =>
            {
                worker.UseGrpc(backend.Channel);
                worker.AddTasks(registry => registry.AddTrainingPipeline(pipeline));
                worker.Configure(o =>
                {
                    o.Concurrency.MaximumConcurrentActivityWorkItems = Math.Max(2, Environment.ProcessorCount);
                    o.Concurrency.MaximumConcurrentOrchestrationWorkItems = 4;
                });
            });
            builder.Services.Configure<GrpcDurableTaskWorkerOptions>(Microsoft.Extensions.Options.Options.DefaultName, DurableBackend.DisableSilentDisconnect);
            builder.Services.AddDurableTaskClient(client => client.UseGrpc(backend.Channel));

            var app = builder.Build();
            HttpRoutes.Map(app, options.FunctionKey, options.Url);
            await app.StartAsync(ct);
            return new FlowersLocalHost(backend, app, pipeline, watcher, warmup, telemetry);
        }
        catch
        {
            await watcher.StopAsync(CancellationToken.None);
            if (backend is not null) await backend.DisposeAsync();
            await warmup;
            await pipeline.DisposeAsync();
            telemetry?.Dispose();
            throw;
        }
    }

    /// <summary>Runs until the token is cancelled (Ctrl-C).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _watcher.StopAsync(CancellationToken.None);
        _watcher.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _backend.DisposeAsync();
        await _warmup; // ends on its own (it catches its failures); the featurizer it builds is disposed with the pipeline
        await _pipeline.DisposeAsync();
        _telemetry?.Dispose(); // last: what the shutdown recorded is flushed
    }
}
