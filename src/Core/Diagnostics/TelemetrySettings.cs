namespace Flowers.Diagnostics;

/// <summary>
/// Where the hosts send <see cref="FlowersTelemetry"/>: the Application Insights of APPLICATIONINSIGHTS_CONNECTION_STRING,
/// signed in as APPLICATIONINSIGHTS_AUTHENTICATION_STRING says ("Authorization=AAD;ClientId={client id}", what the
/// Functions host reads too and infra/modules/function-app.bicep sets). Read the same way by the Functions worker and
/// the local host.
/// </summary>
/// <param name="Entra">The setting says Authorization=AAD: sign in with an identity, not the connection string's key.</param>
/// <param name="ClientId">The user-assigned identity's client id; null with <paramref name="Entra"/>: the system-assigned one.</param>
public sealed record TelemetrySettings(string ConnectionString, bool Entra, string? ClientId)
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <returns>Null without a connection string: telemetry stays off.</returns>
    public static TelemetrySettings? From(string? connectionString, string? authenticationString)
    {
        if (connectionString is not { Length: > 0 }) return null;
        var parts = (authenticationString ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries)).Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.OrdinalIgnoreCase);
        var entra = parts.TryGetValue("Authorization", out var authorization) && authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase);
        return new TelemetrySettings(connectionString, entra,
            entra && parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0 ? clientId : null);
    }
}
