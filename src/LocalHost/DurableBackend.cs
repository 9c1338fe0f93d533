using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowers.LocalHost;

/// <summary>
/// The durable backend of the local host: the Durable Task Framework's Azure Storage provider (the
/// one Durable Functions uses by default) served to the .NET Durable Task worker through the Durable
/// Task gRPC sidecar, on a loopback port. Orchestration state lives in the storage account (Azurite),
/// so a run survives the host being killed, and several hosts on one account share the partitions.
/// </summary>
public sealed class DurableBackend : IAsyncDisposable
{
    private readonly WebApplication _sidecar;

    private DurableBackend(WebApplication sidecar, GrpcChannel channel)
    {
        _sidecar = sidecar;
        Channel = channel;
    }

    /// <summary>The channel that the worker and the client talk to the sidecar on.</summary>
    public GrpcChannel Channel { get; }

    public static async Task<DurableBackend> StartAsync(
        string storageConnectionString, string taskHub, ILoggerFactory loggerFactory, CancellationToken ct = default)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = taskHub,
            StorageAccountClientProvider = new StorageAccountClientProvider(storageConnectionString),
            LoggerFactory = loggerFactory,
            // The 5 min defaults make a restarted host wait minutes for messages the killed one held.
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(15),
            WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(15),
            // One partition (the default is 4) and a 2 s polling ceiling: the provider polls each control queue and the
            // work-item queue, backing off to the ceiling while they are empty, and those polls were most of an idle
            // host's CPU and Azurite's.
            // Activities still spread over every host through the work-item queue; one host at a time runs the
            // orchestrations, which are light. A task hub's partition count is fixed when it is created, so the
            // local host has a task hub of its own (LocalHostOptions.TaskHub).
            PartitionCount = 1,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(2),
            MaxConcurrentTaskActivityWorkItems = Environment.ProcessorCount * 2,
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();

        var builder = FlowersLocalHost.WebBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(k =>
            k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(new StartedOrchestrationService(service));
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(ct);
        return new DurableBackend(sidecar, GrpcChannel.ForAddress(sidecar.Urls.First()));
    }

    /// <summary>
    /// The sidecar sends no health pings, so the worker's silent-disconnect watchdog (120 s without a message)
    /// would tear down a healthy work-item stream during every long quiet spell. The SDK only exposes the
    /// setting internally (GrpcDurableTaskWorkerOptions.Internal.SilentDisconnectTimeout; non-positive = off).
    /// </summary>
    public static void DisableSilentDisconnect(Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions options)
    {
        var flags = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public;
        var internals = options.GetType().GetProperty("Internal", flags)?.GetValue(options);
        internals?.GetType().GetProperty("SilentDisconnectTimeout", flags)?.SetValue(internals, TimeSpan.Zero);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _sidecar.StopAsync();
        await _sidecar.DisposeAsync();
    }
}
