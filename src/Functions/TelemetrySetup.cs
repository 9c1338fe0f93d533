using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Flowers.Diagnostics;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Flowers.Functions;

/// <summary>
/// The worker's telemetry: OpenTelemetry with the Functions worker's defaults, Core's "Flowers" spans and
/// metrics, and the Azure Monitor exporter (traces, metrics and the worker's logs) to Application Insights.
/// On only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (infra/modules/function-app.bicep sets it); locally
/// nothing is exported. See docs/functions.md, "Telemetry".
/// </summary>
public static class TelemetrySetup
{
    public const string ConnectionStringSetting = TelemetrySettings.ConnectionStringSetting;

    /// <summary>"Authorization=AAD;ClientId={client id}": sign in to Application Insights with that managed identity
    /// (the Bicep sets it: the resource has local auth off). The Functions host reads the same setting.</summary>
    public const string AuthenticationStringSetting = TelemetrySettings.AuthenticationStringSetting;

    public static IServiceCollection AddFlowersTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (TelemetrySettings.From(configuration[ConnectionStringSetting], configuration[AuthenticationStringSetting]) is not { } settings)
            return services;
        TokenCredential? credential = IdentityFrom(settings) is { } identity ? new ManagedIdentityCredential(identity) : null;
        services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing.AddSource(FlowersTelemetry.Name))
            .WithMetrics(metrics => metrics.AddMeter(FlowersTelemetry.Name))
            .UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = settings.ConnectionString;
                options.Credential = credential;
            });
        return services;
    }

    /// <summary>The managed identity the settings name: the user-assigned one of ClientId, the system-assigned one
    /// without; null (the connection string alone) when they do not say AAD.</summary>
    public static ManagedIdentityId? IdentityFrom(TelemetrySettings settings) =>
        !settings.Entra ? null
        : settings.ClientId is { } clientId ? ManagedIdentityId.FromUserAssignedClientId(clientId)
        : ManagedIdentityId.SystemAssigned;
}
