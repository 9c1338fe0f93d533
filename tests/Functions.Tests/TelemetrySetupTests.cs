using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Flowers.Functions.Tests;

/// <summary>
/// The worker's telemetry wiring (TelemetrySetup.AddFlowersTelemetry, which Program.cs calls): off without
/// APPLICATIONINSIGHTS_CONNECTION_STRING, the OpenTelemetry providers with the Azure Monitor exporter with it, and the
/// managed identity that APPLICATIONINSIGHTS_AUTHENTICATION_STRING names (as infra/modules/function-app.bicep sets it).
/// </summary>
public class TelemetrySetupTests
{
    // Fake but well-formed: nothing listens on port 1, and these tests send nothing anyway.
    private const string FakeConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:1/";

    private static ServiceProvider Build(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        return new ServiceCollection().AddLogging().AddFlowersTelemetry(configuration).BuildServiceProvider();
    }

    [Fact]
    public void Without_a_connection_string_no_exporter_and_no_provider_is_registered()
    {
        using var services = Build();
        Assert.Null(services.GetService<TracerProvider>());
        Assert.Null(services.GetService<MeterProvider>());
        Assert.Null(services.GetService<IConfigureOptions<AzureMonitorExporterOptions>>());
    }

    [Fact]
    public void An_empty_connection_string_is_no_connection_string()
    {
        using var services = Build((TelemetrySetup.ConnectionStringSetting, ""));
        Assert.Null(services.GetService<TracerProvider>());
    }

    [Fact]
    public void With_a_connection_string_the_tracer_and_meter_providers_export_to_azure_monitor()
    {
        using var services = Build((TelemetrySetup.ConnectionStringSetting, FakeConnectionString));
        Assert.NotNull(services.GetService<TracerProvider>());
        Assert.NotNull(services.GetService<MeterProvider>());
        var exporter = services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName);
        Assert.Equal(FakeConnectionString, exporter.ConnectionString);
        Assert.Null(exporter.Credential); // no authentication string: the connection string alone
    }

    [Fact]
    public void The_providers_listen_to_the_flowers_source_and_meter()
    {
        using var services = Build((TelemetrySetup.ConnectionStringSetting, FakeConnectionString));
        _ = services.GetRequiredService<TracerProvider>();
        _ = services.GetRequiredService<MeterProvider>();
        // Built providers subscribe: Core's source and meter now have a listener (without one they record nothing).
        Assert.True(Flowers.Diagnostics.FlowersTelemetry.Source.HasListeners());
        using var span = Flowers.Diagnostics.FlowersTelemetry.Source.StartActivity("probe");
        Assert.NotNull(span); // null when no provider listens to "Flowers" (the exporter's rate-limited sampler may not record it)
        Assert.True(Flowers.Diagnostics.FlowersTelemetry.LabelDuration.Enabled);
    }

    [Fact]
    public void The_exporter_signs_in_with_the_user_assigned_identity_the_bicep_names()
    {
        using var services = Build(
            (TelemetrySetup.ConnectionStringSetting, FakeConnectionString),
            (TelemetrySetup.AuthenticationStringSetting, "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD"));
        var exporter = services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName);
        Assert.IsType<ManagedIdentityCredential>(exporter.Credential);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("Authorization=None", null)]
    [InlineData("Authorization=AAD", "system")]
    [InlineData("ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD", "11111111-2222-3333-4444-555555555555")]
    public void The_authentication_string_names_the_managed_identity(string? setting, string? identity)
    {
        var id = TelemetrySetup.IdentityFrom(Flowers.Diagnostics.TelemetrySettings.From(FakeConnectionString, setting)!);
        if (identity is null) Assert.Null(id);
        else if (identity == "system") Assert.Equal(ManagedIdentityId.SystemAssigned.ToString(), id!.ToString());
        else Assert.Equal(ManagedIdentityId.FromUserAssignedClientId(identity).ToString(), id!.ToString());
    }

    [Fact]
    public void A_user_assigned_identity_reads_as_its_client_id()
    {
        // What the theory above compares: ManagedIdentityId's text names the client id (else the theory proves nothing).
        var settings = Flowers.Diagnostics.TelemetrySettings.From(FakeConnectionString, "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD")!;
        var id = TelemetrySetup.IdentityFrom(settings)!.ToString();
        Assert.Contains("11111111-2222-3333-4444-555555555555", id);
        Assert.NotEqual(ManagedIdentityId.SystemAssigned.ToString(), id);
    }
}
