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

    /// <summary>Empty blobs, claims/{upload name}, made only if absent, so one labeller at a time labels an upload (UploadClaims).</summary>
    public const string Claims = "claims";

    /// <summary>Data sets: photos users upload, datasets/{dataset}/{class}/{file}, or the packs ingest writes from a
    /// source, datasets/{dataset}/pack-{key}.zip; and the split manifest.</summary>
    public const string Datasets = "datasets";

    /// <summary>Feature shards keyed by featurizer id and content hash.</summary>
    public const string Features = "features";

    /// <summary>Model packages, metrics and reports: models/{modelId}/..., and models/current.</summary>
    public const string Models = "models";

    public static readonly IReadOnlyList<string> AllContainers = [Uploads, Labels, Claims, Datasets, Features, Models];

    /// <summary>Blob trigger path of the labelling functions.</summary>
    public const string UploadsTriggerPath = Uploads + "/{name}";

    // ---- blobs inside the containers ----

    /// <summary>models/current: the small pointer blob naming the published model. Written last, after every
    /// file of models/{id}/, so a reader that follows it never sees a half-written model.</summary>
    public const string CurrentModelPointer = "current";

    public const string ModelPackageFile = "model.flowers";
    public const string ModelManifestFile = "manifest.json";
    public const string MetricsFile = "metrics.json";
    public const string MisclassifiedFile = "misclassified.json";

    /// <summary>Every file of a model folder, in the order they are written (the package last).</summary>
    public static readonly IReadOnlyList<string> ModelFiles = [MetricsFile, MisclassifiedFile, ModelManifestFile, ModelPackageFile];

    public static string ModelBlob(string modelId, string file) => $"{modelId}/{file}";

    /// <summary>The run report beside a model: report.html and the three pictures it embeds (file names from
    /// <see cref="Flowers.Report.RunReport"/>). Not part of <see cref="ModelFiles"/>: a model works without them.</summary>
    public static IReadOnlyList<string> ReportFiles => Flowers.Report.RunReport.Files;

    /// <summary>models/{modelId}/{file} for one of <see cref="ReportFiles"/>; any other name is refused, so a
    /// file name taken from a URL can never reach the package or another blob.</summary>
    public static string ModelReportBlob(string modelId, string file) =>
        ReportFiles.Contains(file, StringComparer.Ordinal)
            ? ModelBlob(modelId, file)
            : throw new ArgumentException($"'{file}' is not a report file (use one of {string.Join(", ", ReportFiles)})", nameof(file));

    /// <summary>datasets/{dataset}/{class}/{file}</summary>
    public static string DatasetPhotoBlob(string dataset, string photoClass, string file) => $"{dataset}/{photoClass}/{file}";

    /// <summary>datasets/{dataset}/{class}/{file} from the photo's data-set path "{class}/{file}" (as in metrics.json).</summary>
    public static string DatasetPhotoBlob(string dataset, string image) => $"{dataset}/{image}";

    /// <summary>datasets/{dataset}/pack-{key}.zip: the photos of one shard, written by ingest from a source
    /// (<see cref="PhotoPack"/>). Directly under the data set, like the manifest, so it is never taken for a photo.</summary>
    public static string PhotoPackBlob(string dataset, string packKey) => $"{dataset}/{PhotoPackPrefix}{packKey}.zip";

    public const string PhotoPackPrefix = "pack-";

    /// <summary>datasets/{dataset}/split.json: the split manifest (one level above the class folders, so
    /// it is never taken for a photo).</summary>
    public static string SplitManifestBlob(string dataset) => $"{dataset}/split.json";

    /// <summary>datasets/{dataset}/ingest.json: what ingest left out (unreadable files) and why.</summary>
    public static string IngestReportBlob(string dataset) => $"{dataset}/ingest.json";

    /// <summary>features/{featurizerId}/{shardKey}.bin: one FeatureShard.</summary>
    public static string FeatureShardBlob(string featurizerId, string shardKey) => $"{featurizerId}/{shardKey}.bin";

    /// <summary>features/{featurizerId}/{shardKey}.json: the shard's summary (photos skipped and why); written
    /// after the .bin, so its presence means the shard is complete.</summary>
    public static string FeatureShardSummaryBlob(string featurizerId, string shardKey) => $"{featurizerId}/{shardKey}.json";

    /// <summary>labels/{upload name}.json</summary>
    public static string LabelBlob(string uploadName) => uploadName + ".json";

    /// <summary>Blob Storage's limit on a blob name, in characters.</summary>
    public const int MaxBlobNameLength = 1024;

    // ---- blob metadata keys (C# identifiers, lowercase: what Blob Storage keeps) ----

    /// <summary>Lowercase hex SHA-256 of the blob's bytes, on data-set photos.</summary>
    public const string ContentHashMetadata = "contenthash";

    /// <summary>The label set on an uploaded photo once it is labelled.</summary>
    public const string LabelMetadata = "label";

    /// <summary>The model that labelled an uploaded photo (or tried to).</summary>
    public const string LabelModelMetadata = "labelmodel";

    /// <summary>Set instead of <see cref="LabelMetadata"/> when the upload could not be labelled (not an image...).</summary>
    public const string LabelErrorMetadata = "labelerror";
}
