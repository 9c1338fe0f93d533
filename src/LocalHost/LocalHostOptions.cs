namespace Flowers.LocalHost;

/// <summary>How the local host runs: which storage account, where it listens, which key guards the API.</summary>
public sealed record LocalHostOptions
{
    /// <summary>Same setting as the Functions app (AzureWebJobsStorage): Azurite by default.</summary>
    public string StorageConnection { get; init; } = Azurite.DevelopmentStorage;

    /// <summary>Where the HTTP API listens; the Functions host's local default port.</summary>
    public string Url { get; init; } = "http://127.0.0.1:7071";

    /// <summary>
    /// The local host's own task hub, not the Functions app's (<see cref="Flowers.Storage.StorageNames.TaskHub"/>): a
    /// host pointed at the app's storage account then neither takes the app's partitions nor meets its layout
    /// (<see cref="DurableBackend"/> runs one partition).
    /// </summary>
    public string TaskHub { get; init; } = LocalTaskHub;

    public const string LocalTaskHub = "FlowersLocalHub";

    /// <summary>The function key that every route but health requires (header x-functions-key or ?code=).</summary>
    public required string FunctionKey { get; init; }

    /// <summary>How often the uploads container is looked at for new photos.</summary>
    public TimeSpan UploadPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Label each new upload on its own (the labelling before batches), not in batches: for side-by-side
    /// figures (`./flowers bench`; environment FLOWERS_LABEL_ONE_BY_ONE=1 for `flowers host`).</summary>
    public bool LabelOneByOne { get; init; }

    public const string LabelOneByOneVariable = "FLOWERS_LABEL_ONE_BY_ONE";

    /// <summary>Where Core's spans and metrics go (Application Insights); null: nowhere.</summary>
    public Flowers.Diagnostics.TelemetrySettings? Telemetry { get; init; }

    /// <summary>Training settings (AllowPrivateSources, AllowLocalSources, ...), as the "Training" section of the app.</summary>
    public Flowers.Pipeline.TrainingSettings Training { get; init; } = new();
}
