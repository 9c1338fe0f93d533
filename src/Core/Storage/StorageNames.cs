namespace Flowers.Storage;

/// <summary>
/// The one place that names what the app keeps in Blob Storage and how it finds the account.
/// host.json, local.settings.example.json and infra/ are held equal to these by tests.
/// </summary>
public static class StorageNames
{
    /// <summary>App setting (or prefix, for identity-based connections) of the storage account.</summary>
    public const string Connection = "AzureWebJobsStorage";

    /// <summary>Durable Functions task hub.</summary>
    public const string TaskHub = "FlowersTaskHub";

    /// <summary>Users drop photos here to have them labelled.</summary>
    public const string Uploads = "uploads";

    /// <summary>One JSON result per uploaded photo: labels/{upload name}.json.</summary>
    public const string Labels = "labels";

    /// <summary>Acquired data sets: datasets/{dataset}/{class}/{file} plus the split manifest.</summary>
    public const string Datasets = "datasets";

    /// <summary>Feature shards keyed by featurizer id and content hash.</summary>
    public const string Features = "features";

    /// <summary>Model packages, metrics and reports: models/{modelId}/..., and models/current.</summary>
    public const string Models = "models";

    public static readonly IReadOnlyList<string> AllContainers = [Uploads, Labels, Datasets, Features, Models];
}
