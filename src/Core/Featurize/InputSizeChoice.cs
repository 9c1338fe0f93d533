using SkiaSharp;

namespace Flowers.Featurize;

/// <summary>
/// The network's input size for a data set, from the size of its training photos: about 1.25 times their median
/// short side, a multiple of 32 between <see cref="Smallest"/> and <see cref="FeaturizerOptions.InputSize"/>'s
/// default (288). Measured (bench/README.md): photos of 128 px classify better at 160 than stretched to 224 or 288,
/// and cost a third of the CPU; full-resolution photos get 288 as before.
/// </summary>
/// <param name="MedianShortSide">Median shorter side, in pixels, of the photos looked at (0 when none could be read).</param>
/// <param name="PhotosLookedAt">Photos whose size was read (a sample of the training side).</param>
/// <param name="Chosen">The input size the run featurizes at.</param>
/// <param name="Given">True when the run was told its input size and none was chosen.</param>
public sealed record InputSizeChoice(int MedianShortSide, int PhotosLookedAt, int Chosen, bool Given = false)
{
    public const int Smallest = 128;
    public const double Upscale = 1.25;

    /// <summary>Photos whose size a choice reads: enough for a median, few enough to read in a moment.</summary>
    public const int Sample = 64;

    public static int Largest => new FeaturizerOptions().InputSize;

    /// <summary>The input size for photos of this median short side (<see cref="Largest"/> when unknown).</summary>
    public static int For(int medianShortSide) =>
        medianShortSide <= 0 ? Largest
            : Math.Clamp((int)Math.Ceiling(medianShortSide * Upscale / 32) * 32, Smallest, Largest);

    /// <summary>The choice from photos' encoded bytes; photos that are no photo are left out, not counted.</summary>
    public static InputSizeChoice From(IEnumerable<byte[]> photos)
    {
        var sides = photos.Select(ShortSide).Where(side => side > 0).Order().ToList();
        var median = sides.Count == 0 ? 0 : sides[sides.Count / 2];
        return new InputSizeChoice(median, sides.Count, For(median));
    }

    public static InputSizeChoice Told(int inputSize) => new(0, 0, inputSize, Given: true);

    /// <summary>Up to <see cref="Sample"/> items spread evenly over <paramref name="items"/>, the same ones every time.</summary>
    public static IReadOnlyList<T> SampleOf<T>(IReadOnlyList<T> items) =>
        items.Count <= Sample ? items : [.. Enumerable.Range(0, Sample).Select(i => items[(int)((long)i * items.Count / Sample)])];

    /// <summary>The training photos a run's choice reads: a sample of the train side, one entry a content, never a test photo.</summary>
    public static IReadOnlyList<Flowers.Split.SplitEntry> PhotosToRead(Flowers.Split.SplitManifest manifest) =>
        SampleOf(manifest.Train.DistinctBy(e => e.ContentHash).ToList());

    public FeaturizerOptions Apply(FeaturizerOptions options) => options with { InputSize = Chosen };

    public override string ToString() => Given
        ? $"{Chosen} px (given)"
        : $"{Chosen} px for photos of {MedianShortSide} px (median short side of {PhotosLookedAt} training photos) x {Upscale}, {Smallest}-{Largest} px";

    /// <summary>The shorter side from the file's header alone (no pixels decoded); 0 when it is not a photo.</summary>
    private static int ShortSide(byte[] encoded)
    {
        if (encoded.Length == 0) return 0;
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        return codec is null ? 0 : Math.Max(0, Math.Min(codec.Info.Width, codec.Info.Height));
    }
}
