using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flowers.Acquire;
using Flowers.Train;

namespace Flowers.Pipeline;

/// <summary>
/// What to train on and how: the validated body of POST /api/training, and the orchestration's input
/// (small: names and numbers only).
/// </summary>
/// <param name="Dataset">Folder name in the datasets container; one run at a time per data set.</param>
/// <param name="SourceUrl">http(s) URL of an archive to acquire; null when the photos are already in
/// datasets/{Dataset}/{class}/{file}.</param>
/// <param name="InputSize">The network's input size; 0 = chosen from the training photos' size (<see cref="Flowers.Featurize.InputSizeChoice"/>).</param>
public sealed record TrainingRequest(
    string Dataset,
    string? SourceUrl,
    double TestFraction,
    int Seed,
    TrainerOptions Trainer,
    double MinAccuracy,
    int ShardSize,
    int InputSize = 0)
{
    /// <summary>
    /// Photos per featurize activity, about. Each activity completion is one more orchestration episode (history
    /// read and replayed), so small shards cost time: flowers128 (4317 photos) took 16 s of durable overhead with 128
    /// shards of ~34 against ~2 s with 32 of ~135, which still keep 2 cores (or a few Functions instances) busy.
    /// </summary>
    public const int DefaultShardSize = 256;
}

/// <summary>A request body that cannot be used; <see cref="Exception.Message"/> names the field and the problem.</summary>
public sealed class TrainingRequestException(string field, string problem) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;
}

/// <summary>Reads and validates the JSON body of POST /api/training.</summary>
public static partial class TrainingRequestReader
{
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex DatasetNamePattern();

    private static readonly string[] Fields =
        ["source", "blobPrefix", "dataset", "testFraction", "seed", "trainer", "trainerOptions", "minAccuracy", "shardSize", "inputSize"];

    private static readonly JsonSerializerOptions TrainerOptionsJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Body (may be empty: the default data set with default options):
    /// { "source": "https://…/photos.tgz" | "blobPrefix": "myphotos", "dataset": "name", "testFraction": 0.2,
    ///   "seed": 2018, "trainer": "lbfgs|sdca|lightgbm", "trainerOptions": {…}, "minAccuracy": 0.8, "shardSize": 256,
    ///   "inputSize": 224 (default: chosen from the photos' size) }
    /// </summary>
    /// <exception cref="TrainingRequestException">naming the bad field.</exception>
    public static async Task<TrainingRequest> ReadAsync(string? body, TrainingSettings settings, CancellationToken ct = default)
    {
        JsonElement root;
        if (string.IsNullOrWhiteSpace(body)) root = JsonDocument.Parse("{}").RootElement;
        else
        {
            try { root = JsonDocument.Parse(body).RootElement; }
            catch (JsonException e) { throw new TrainingRequestException("body", $"malformed JSON ({e.Message})"); }
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new TrainingRequestException("body", $"expected a JSON object, got {root.ValueKind}");

        var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in root.EnumerateObject())
        {
            var known = Fields.FirstOrDefault(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new TrainingRequestException(property.Name, $"unknown field (known: {string.Join(", ", Fields)})");
            if (!fields.TryAdd(known, property.Value)) throw new TrainingRequestException(known, "given twice");
        }

        var source = String(fields, "source");
        var blobPrefix = String(fields, "blobPrefix");
        var dataset = String(fields, "dataset");
        if (source is not null && blobPrefix is not null)
            throw new TrainingRequestException("source", "give either source or blobPrefix, not both");

        if (blobPrefix is not null)
        {
            CheckName("blobPrefix", blobPrefix);
            if (dataset is not null && dataset != blobPrefix)
                throw new TrainingRequestException("dataset", "with blobPrefix the data set is the prefix itself; leave dataset out");
            dataset = blobPrefix;
            source = null;
        }
        else
        {
            source ??= AcquireOptions.DefaultUrl;
            if (settings.AllowLocalSources && Path.IsPathFullyQualified(source))
            {
                if (!Directory.Exists(source) && !File.Exists(source))
                    throw new TrainingRequestException("source", $"'{source}' does not exist on the host");
                if (LocalSources.Problem(source, settings) is { } outside) throw new TrainingRequestException("source", outside);
                if (dataset is not null) CheckName("dataset", dataset);
                else dataset = DerivedName(source, DatasetNameFromPath(source));
            }
            else
            {
                if (!Uri.TryCreate(source, UriKind.Absolute, out var url))
                    throw new TrainingRequestException("source", $"'{source}' is not an absolute URL");
                if (await SourceAddressGuard.CheckAsync(url, settings.AllowPrivateSources, ct) is { } problem)
                    throw new TrainingRequestException("source", problem);
                if (dataset is not null) CheckName("dataset", dataset);
                else dataset = DerivedName(source, DatasetNameFromUrl(url));
            }
        }

        var trainer = new TrainerOptions();
        if (fields.TryGetValue("trainerOptions", out var trainerOptions) && trainerOptions.ValueKind != JsonValueKind.Null)
        {
            if (trainerOptions.ValueKind != JsonValueKind.Object)
                throw new TrainingRequestException("trainerOptions", $"expected a JSON object, got {trainerOptions.ValueKind}");
            try { trainer = trainerOptions.Deserialize<TrainerOptions>(TrainerOptionsJson) ?? trainer; }
            catch (JsonException e) { throw new TrainingRequestException("trainerOptions" + e.Path?.TrimStart('$'), e.Message); }
        }
        if (String(fields, "trainer") is { } trainerName) trainer = trainer with { Trainer = trainerName };
        if (!TrainerOptions.Trainers.Contains(trainer.Trainer))
            throw new TrainingRequestException("trainer", $"'{trainer.Trainer}' is not one of {string.Join(", ", TrainerOptions.Trainers)}");
        try { trainer.Validate(); }
        catch (InvalidTrainerOptionException e) { throw new TrainingRequestException($"trainerOptions.{e.Option}", e.Message); }
        catch (ArgumentException e) { throw new TrainingRequestException("trainerOptions", e.Message); }
        if (TrainerNativeParts.Missing(trainer.Trainer) is { } missing) throw new TrainingRequestException("trainer", missing);

        return new TrainingRequest(
            Dataset: dataset,
            SourceUrl: source,
            TestFraction: Number(fields, "testFraction", 0.2, min: 0, max: 1, exclusive: true),
            Seed: (int)Number(fields, "seed", 2018, min: 0, max: int.MaxValue, integer: true),
            Trainer: trainer,
            MinAccuracy: Number(fields, "minAccuracy", 0, min: 0, max: 1),
            ShardSize: (int)Number(fields, "shardSize", TrainingRequest.DefaultShardSize, min: 1, max: 1000, integer: true),
            InputSize: (int)Number(fields, "inputSize", 0, min: 32, max: 1024, integer: true));
    }

    /// <summary>"flower_photos" for http://…/flower_photos.tgz: the file name without archive extensions, in lowercase.</summary>
    public static string DatasetNameFromUrl(Uri url)
    {
        var file = Uri.UnescapeDataString(url.Segments.LastOrDefault()?.Trim('/') ?? "");
        foreach (var extension in new[] { ".tar.gz", ".tgz", ".zip", ".tar" })
            if (file.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) { file = file[..^extension.Length]; break; }
        var name = new string(file.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-').ToArray()).Trim('-', '_');
        if (name.Length == 0) name = url.Host.ToLowerInvariant().Replace('.', '-');
        return name.Length > 63 ? name[..63] : name;
    }

    /// <summary>"photos" for /data/photos/ or /data/photos.tgz; "" for "/" (no name to take).</summary>
    public static string DatasetNameFromPath(string path)
    {
        var file = Path.GetFileName(Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        return file.Length == 0 ? "" : DatasetNameFromUrl(new Uri("file:///" + Uri.EscapeDataString(file)));
    }

    /// <summary>A name taken from the source is held to the same rule as a given one, at once: it names the model
    /// and its blobs, so a bad one would otherwise fail only when the model is saved, after the whole run.</summary>
    private static string DerivedName(string source, string name) =>
        DatasetNamePattern().IsMatch(name) ? name
            : throw new TrainingRequestException("source",
                $"no data-set name can be taken from '{source}' (got '{name}', not lowercase letters, digits, '-' and '_'); give one in \"dataset\"");

    private static void CheckName(string field, string value)
    {
        if (!DatasetNamePattern().IsMatch(value))
            throw new TrainingRequestException(field, $"'{value}' is not a data-set name (lowercase letters, digits, '-' and '_', at most 63)");
    }

    private static string? String(Dictionary<string, JsonElement> fields, string name)
    {
        if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new TrainingRequestException(name, $"expected a string, got {value.ValueKind}");
        var text = value.GetString()!;
        return text.Length == 0 ? throw new TrainingRequestException(name, "is empty") : text;
    }

    private static double Number(Dictionary<string, JsonElement> fields, string name, double fallback,
        double min, double max, bool exclusive = false, bool integer = false)
    {
        if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null) return fallback;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number))
            throw new TrainingRequestException(name, $"expected a number, got {value.ValueKind}");
        if (integer && number != Math.Floor(number)) throw new TrainingRequestException(name, $"expected a whole number, got {value.GetRawText()}");
        var inRange = exclusive ? number > min && number < max : number >= min && number <= max;
        if (!inRange)
        {
            var range = exclusive ? $"between {min} and {max}, exclusive" : $"from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
            throw new TrainingRequestException(name, $"{value.GetRawText()} is out of range ({range})");
        }
        return number;
    }
}
