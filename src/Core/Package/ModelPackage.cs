using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flowers.Featurize;
using Flowers.Train;

namespace Flowers.Package;

/// <summary>
/// One trained model as one file (model.flowers): a zip holding manifest.json and the classifier.
/// The featurizer itself is not inside: the manifest says how to create it, and every app ships the
/// ResNet18 weights.
/// </summary>
public sealed class ModelPackage
{
    public const string FileName = "model.flowers";
    private const string ManifestEntry = "manifest.json";
    private const string ClassifierEntry = "classifier.bin";

    public ModelPackage(ModelManifest manifest, TrainedClassifier classifier)
    {
        if (!manifest.Classes.SequenceEqual(classifier.Classes))
            throw new ArgumentException(
                $"The manifest lists classes [{string.Join(", ", manifest.Classes)}] but the classifier predicts [{string.Join(", ", classifier.Classes)}].");
        Manifest = manifest;
        Classifier = classifier;
    }

    public ModelManifest Manifest { get; }
    public TrainedClassifier Classifier { get; }
    public string ModelId => Manifest.ModelId;

    /// <summary>Packages a freshly trained classifier, giving it its model id.</summary>
    public static ModelPackage Create(TrainedClassifier classifier, FeaturizerOptions featurizer, string featurizerId,
        TrainerOptions trainerOptions, MetricsSummary metrics, string datasetFingerprint, DateTimeOffset createdAt, string? modelId = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(classifier.ToBytes());
        hash.AppendData(Encoding.UTF8.GetBytes($"\n{featurizerId}\n{datasetFingerprint}"));
        var shortHash = Convert.ToHexStringLower(hash.GetHashAndReset())[..8];
        var manifest = new ModelManifest
        {
            ModelId = modelId ?? $"{createdAt.UtcDateTime:yyyyMMdd-HHmmss}-{shortHash}",
            Classes = classifier.Classes,
            Featurizer = featurizer,
            FeaturizerId = featurizerId,
            Trainer = classifier.Trainer,
            TrainerOptions = trainerOptions,
            Metrics = metrics,
            DatasetFingerprint = datasetFingerprint,
            CreatedAt = createdAt,
        };
        return new ModelPackage(manifest, classifier);
    }

    public void WriteTo(Stream stream)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var manifest = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal);
        manifest.LastWriteTime = Manifest.CreatedAt; // same model, same bytes
        using (var entry = manifest.Open())
            JsonSerializer.Serialize(entry, Manifest, ModelManifest.Json);
        var classifier = zip.CreateEntry(ClassifierEntry, CompressionLevel.Optimal);
        classifier.LastWriteTime = Manifest.CreatedAt;
        using (var entry = classifier.Open())
            Classifier.Save(entry);
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        WriteTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Writes the package to <paramref name="path"/> whole or not at all.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var partial = full + ".partial";
        using (var file = File.Create(partial))
            WriteTo(file);
        File.Move(partial, full, overwrite: true);
    }

    /// <summary>Reads a package; <see cref="ModelPackageException"/> says what is wrong with a bad one.</summary>
    public static ModelPackage ReadFrom(Stream stream)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ModelPackageException("This is not a Flowers model package (it is not a zip archive).", e);
        }
        using (zip)
        {
            var manifest = ReadManifest(Entry(zip, ManifestEntry));
            TrainedClassifier classifier;
            try
            {
                using var entry = Entry(zip, ClassifierEntry).Open();
                classifier = TrainedClassifier.Load(entry);
            }
            catch (InvalidDataException e)
            {
                throw new ModelPackageException($"The model package's classifier is damaged: {e.Message}", e);
            }
            try
            {
                return new ModelPackage(manifest, classifier);
            }
            catch (ArgumentException e)
            {
                throw new ModelPackageException($"The model package is inconsistent: {e.Message}", e);
            }
        }
    }

    /// <summary>Loads the package at <paramref name="path"/>; errors name the file.</summary>
    public static ModelPackage Load(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            return ReadFrom(file);
        }
        catch (ModelPackageException e)
        {
            throw new ModelPackageException($"{path}: {e.Message}", e.InnerException);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelPackageException($"{path}: no such model package.", e);
        }
    }

    private static ZipArchiveEntry Entry(ZipArchive zip, string name) =>
        zip.GetEntry(name) ?? throw new ModelPackageException($"The model package has no {name}: it is damaged or not a Flowers model.");

    private static ModelManifest ReadManifest(ZipArchiveEntry entry)
    {
        try
        {
            using var stream = entry.Open();
            using var document = JsonDocument.Parse(stream);
            // The version is read first, so a newer package says so instead of failing on its new shape.
            if (!document.RootElement.TryGetProperty("formatVersion", out var version) || !version.TryGetInt32(out var formatVersion))
                throw new ModelPackageException("The model package's manifest.json has no format version.");
            if (formatVersion != ModelManifest.CurrentFormatVersion)
                throw new ModelPackageException(
                    $"The model package has format version {formatVersion}; this build of Flowers reads version {ModelManifest.CurrentFormatVersion}. " +
                    (formatVersion > ModelManifest.CurrentFormatVersion ? "Update Flowers to use it." : "Train the model again."));
            var manifest = document.Deserialize<ModelManifest>(ModelManifest.Json)
                ?? throw new ModelPackageException("The model package's manifest.json is empty.");
            // Packages made before the 8-bit network existed name no precision: their features are float.
            var featurizer = document.RootElement.TryGetProperty("featurizer", out var f) ? f : default;
            return featurizer.ValueKind == JsonValueKind.Object && !featurizer.TryGetProperty("precision", out _)
                ? manifest with { Featurizer = manifest.Featurizer with { Precision = FeaturePrecision.Float32 } }
                : manifest;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new ModelPackageException($"The model package's manifest.json is damaged: {e.Message}", e);
        }
    }
}
