using Flowers.Diagnostics;

namespace Flowers.Tests.Diagnostics;

/// <summary>How both hosts read APPLICATIONINSIGHTS_CONNECTION_STRING and APPLICATIONINSIGHTS_AUTHENTICATION_STRING.</summary>
public class TelemetrySettingsTests
{
    private const string Connection = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:1/";
    private const string ClientId = "11111111-2222-3333-4444-555555555555";

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void No_connection_string_is_telemetry_off(string? connection) =>
        Assert.Null(TelemetrySettings.From(connection, $"ClientId={ClientId};Authorization=AAD"));

    [Theory]
    [InlineData(null, false, null)]
    [InlineData("", false, null)]
    [InlineData("Authorization=None", false, null)]
    [InlineData($"ClientId={ClientId}", false, null)] // a client id alone says nothing about how to sign in
    [InlineData("Authorization=AAD", true, null)]
    [InlineData($"ClientId={ClientId};Authorization=AAD", true, ClientId)] // what infra/modules/function-app.bicep sets
    [InlineData($" authorization = aad ; clientid = {ClientId} ;", true, ClientId)]
    [InlineData("Authorization=AAD;ClientId=", true, null)]
    public void The_authentication_string_says_whether_and_as_whom_to_sign_in(string? authentication, bool entra, string? clientId) =>
        Assert.Equal(new TelemetrySettings(Connection, entra, clientId), TelemetrySettings.From(Connection, authentication));
}
