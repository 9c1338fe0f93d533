using System.Text.Json;
using System.Text.Json.Serialization;
using Flowers.Acquire;

namespace Flowers.Split;

public enum SplitSide { Train, Test }

/// <param name="TestFraction">Share of each class's photos held out for testing, in (0, 1).</param>
/// <param name="Seed">Changes which photos are held out; the same seed always gives the same split.</param>
public sealed record SplitOptions(double TestFraction = 0.2, int Seed = 2018)
{
    public const double DefaultTestFraction = 0.2;
    public const int DefaultSeed = 2018;
}

/// <summary>One photo's side of the split.</summary>
/// <param name="Pack">The key of the pack holding the photo's bytes, when ingest packed the data set
/// (datasets/{dataset}/pack-{key}.zip); null when the photo is a blob of its own, datasets/{dataset}/{class}/{name}.</param>
public sealed record SplitEntry(string Class, string Name, string ContentHash, SplitSide Side,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Pack = null)
{
    /// <summary>The photo's data-set path, "{class}/{name}".</summary>
    [JsonIgnore]
    public string Image => $"{Class}/{Name}";
}

/// <summary>Which photo is for training and which for testing. Stored as JSON beside the data.</summary>
/// <param name="Classes">Class names, sorted ordinally.</param>
/// <param name="Entries">Every photo that takes part, sorted by class then name.</param>
public sealed record SplitManifest(IReadOnlyList<string> Classes, IReadOnlyList<SplitEntry> Entries, SplitOptions Options)
{
    /// <summary>Photos left out of both sides, with the reason (e.g. the same bytes filed under two classes).</summary>
    public IReadOnlyList<SkippedPhoto> Skipped { get; init; } = [];

    [JsonIgnore]
    public IEnumerable<SplitEntry> Train => Entries.Where(e => e.Side == SplitSide.Train);

    [JsonIgnore]
    public IEnumerable<SplitEntry> Test => Entries.Where(e => e.Side == SplitSide.Test);

    public int CountOf(string cls, SplitSide side) => Entries.Count(e => e.Class == cls && e.Side == side);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SplitManifest FromJson(string json) =>
        JsonSerializer.Deserialize<SplitManifest>(json, Json) ?? throw new InvalidDataException("The split manifest is empty.");
}
