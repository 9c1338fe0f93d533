using Flowers.Diagnostics;

namespace Flowers.LocalHost.Tests;

/// <summary>
/// `./flowers host` sends Core's spans and metrics only when local.settings.json (or the environment) names an
/// Application Insights connection string, as the Functions app does.
/// </summary>
public class LocalTelemetryTests
{
    private const string FakeConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:1/";

    private static LocalSettings Load(string values)
    {
        var root = Directory.CreateTempSubdirectory("flowers-settings-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "src", "Functions"));
            File.WriteAllText(Path.Combine(root, LocalSettings.LocalSettingsFile), $$"""{ "Values": { {{values}} } }""");
            return LocalSettings.Load(root);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [SkippableFact]
    public void Without_a_connection_string_the_host_sends_nothing()
    {
        Skip.If(Environment.GetEnvironmentVariable(TelemetrySettings.ConnectionStringSetting) is { Length: > 0 }, "this machine sets a connection string");
        var settings = Load("""
            "AzureWebJobsStorage": "UseDevelopmentStorage=true"
            """);
        Assert.Null(settings.Telemetry);
        Assert.Null(LocalTelemetry.Start(settings.Telemetry));
    }

    [SkippableFact]
    public void The_connection_and_authentication_strings_of_local_settings_turn_it_on()
    {
        Skip.If(Environment.GetEnvironmentVariable(TelemetrySettings.ConnectionStringSetting) is { Length: > 0 }, "this machine sets a connection string");
        var settings = Load($$"""
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "{{FakeConnectionString}}",
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD"
            """);
        Assert.Equal(new TelemetrySettings(FakeConnectionString, true, "11111111-2222-3333-4444-555555555555"), settings.Telemetry);
    }

    [Fact]
    public void With_a_connection_string_the_flowers_source_and_meter_are_listened_to_until_disposed()
    {
        using (var telemetry = LocalTelemetry.Start(new TelemetrySettings(FakeConnectionString, false, null)))
        {
            Assert.NotNull(telemetry);
            Assert.True(FlowersTelemetry.Source.HasListeners());
            Assert.True(FlowersTelemetry.LabelDuration.Enabled);
            using var span = FlowersTelemetry.Source.StartActivity("probe");
            Assert.NotNull(span);
        }
    }
}
