using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Flowers.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Flowers.LocalHost;

/// <summary>
/// The local host's telemetry: Core's "Flowers" spans and metrics (the ones the Functions worker exports) to the
/// Application Insights of the settings, while the host runs. Only those: the local host has no Functions host to
/// record requests, and its logs stay on the console.
/// </summary>
public sealed class LocalTelemetry : IDisposable
{
    private readonly TracerProvider _traces;
    private readonly MeterProvider _metrics;

    private LocalTelemetry(TracerProvider traces, MeterProvider metrics) => (_traces, _metrics) = (traces, metrics);

    /// <returns>Null without settings (no connection string): nothing is sent.</returns>
    public static LocalTelemetry? Start(TelemetrySettings? settings)
    {
        if (settings is null) return null;
        // On a developer's machine an Entra sign-in is `az login` (DefaultAzureCredential), or the identity the settings name.
        TokenCredential? credential = settings.Entra ? new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = settings.ClientId }) : null;
        void Configure(AzureMonitorExporterOptions options) => options.ConnectionString = settings.ConnectionString;
        return new LocalTelemetry(
            Sdk.CreateTracerProviderBuilder().AddSource(FlowersTelemetry.Name).AddAzureMonitorTraceExporter(Configure, credential).Build(),
            Sdk.CreateMeterProviderBuilder().AddMeter(FlowersTelemetry.Name).AddAzureMonitorMetricExporter(Configure, credential).Build());
    }

    /// <summary>Flushes what is left and stops listening.</summary>
    public void Dispose()
    {
        _traces.Dispose();
        _metrics.Dispose();
    }
}
