using System.Text.Json;
using Flowers.Pipeline;
using Flowers.Storage;
using Microsoft.Extensions.Configuration;

namespace Flowers.LocalHost;

/// <summary>
/// The local host's settings, found where the Functions app finds its own: environment variables first,
/// then the Values of src/Functions/local.settings.json. So pointing at a real storage account instead of
/// Azurite is the same AzureWebJobsStorage setting.
/// </summary>
/// <param name="Telemetry">APPLICATIONINSIGHTS_CONNECTION_STRING (and _AUTHENTICATION_STRING), as the Functions app reads
/// them: set, the host sends Core's spans and metrics to that Application Insights; unset (the default), nothing.</param>
public sealed record LocalSettings(string StorageConnection, TrainingSettings Training, string Url, Flowers.Diagnostics.TelemetrySettings? Telemetry = null)
{
    public const string LocalSettingsFile = "src/Functions/local.settings.json";

    /// <summary>True for the development-storage shorthand, the one Azurite the host may start itself (port 10000);
    /// an explicit connection string names an account someone else runs.</summary>
    public bool UsesAzurite => StorageConnection.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase);

    public static LocalSettings Load(string repositoryRoot)
    {
        var values = new Dictionary<string, string?>();
        var file = Path.Combine(repositoryRoot, LocalSettingsFile);
        if (File.Exists(file))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            if (json.RootElement.TryGetProperty("Values", out var entries))
                foreach (var entry in entries.EnumerateObject())
                    values[entry.Name.Replace("__", ":")] = entry.Value.ToString();
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).AddEnvironmentVariables().Build();
        // The local host reads data sets from its own disk (flowers train --dataset ./photos), below the home, temporary
        // and repository's parent folders unless told otherwise; a deployed app never does.
        var training = configuration.GetSection("Training").Get<TrainingSettings>() ?? new TrainingSettings();
        training = training with
        {
            AllowLocalSources = true,
            LocalSourceRoots = training.LocalSourceRoots
                ?? string.Join(Path.PathSeparator, [.. new TrainingSettings().LocalSourceFolders(), Path.GetDirectoryName(Path.GetFullPath(repositoryRoot).TrimEnd(Path.DirectorySeparatorChar))!]),
        };
        return new LocalSettings(
            configuration[StorageNames.Connection] is { Length: > 0 } connection ? connection : Azurite.DevelopmentStorage,
            training,
            configuration["FLOWERS_HOST_URL"] is { Length: > 0 } url ? url : "http://127.0.0.1:7071",
            Flowers.Diagnostics.TelemetrySettings.From(configuration[Flowers.Diagnostics.TelemetrySettings.ConnectionStringSetting],
                configuration[Flowers.Diagnostics.TelemetrySettings.AuthenticationStringSetting]));
    }
}
