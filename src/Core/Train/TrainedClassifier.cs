using System.Text;
using Flowers.Featurize;

namespace Flowers.Train;

/// <summary>
/// A trained classifier head: feature vectors in, one probability per class out. A photo's
/// probabilities are the average over its views (test-time augmentation). Each view passes through the
/// classifier's <see cref="Normalization"/> first. Immutable and thread-safe.
/// </summary>
public sealed class TrainedClassifier
{
    private static readonly byte[] Magic = "FLWRCLSF"u8.ToArray();
    public const int FormatVersion = 2; // 2 adds the feature normalization

    private readonly IViewScorer _scorer;

    internal TrainedClassifier(IReadOnlyList<string> classes, int dimension, string trainer, IViewScorer scorer,
        FeatureNormalization? normalization = null)
    {
        Classes = classes;
        Dimension = dimension;
        Trainer = trainer;
        _scorer = scorer;
        Normalization = normalization ?? new FeatureNormalization(FeatureNormalization.None, [dimension]);
        if (Normalization.Dimension != dimension)
            throw new ArgumentException($"The normalization's stages add up to {Normalization.Dimension} features, the classifier has {dimension}.");
    }

    /// <summary>What each view goes through before the scorer.</summary>
    public FeatureNormalization Normalization { get; }

    /// <summary>Class names; probabilities come in this order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Length of one view vector the classifier expects.</summary>
    public int Dimension { get; }

    /// <summary>The trainer that made it: lbfgs, sdca or lightgbm.</summary>
    public string Trainer { get; }

    internal IViewScorer Scorer => _scorer;

    /// <summary>Class probabilities of a photo: the mean of its views' probabilities.</summary>
    public float[] Predict(PhotoFeatures features) => Predict(features.Views);

    /// <summary>Class probabilities of a photo given as its view vectors.</summary>
    public float[] Predict(IReadOnlyList<float[]> views)
    {
        if (views.Count == 0) throw new ArgumentException("A photo needs at least one feature view.", nameof(views));
        Span<double> sum = Classes.Count <= 256 ? stackalloc double[Classes.Count] : new double[Classes.Count];
        foreach (var view in views)
        {
            if (view.Length != Dimension)
                throw new ArgumentException(
                    $"A feature view has {view.Length} values but this classifier was trained on {Dimension}: " +
                    "were the features made by a different featurizer?", nameof(views));
            _scorer.AddProbabilities(Normalization.Apply(view), sum);
        }
        var probabilities = new float[Classes.Count];
        for (var c = 0; c < probabilities.Length; c++) probabilities[c] = (float)(sum[c] / views.Count);
        return probabilities;
    }

    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(_scorer.Kind);
        writer.Write(Trainer);
        writer.Write(Dimension);
        writer.Write(Classes.Count);
        foreach (var c in Classes) writer.Write(c);
        Normalization.Write(writer);
        _scorer.Write(writer);
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        Save(buffer);
        return buffer.ToArray();
    }

    /// <summary>Reads what <see cref="Save"/> wrote; <see cref="InvalidDataException"/> says what is wrong otherwise.</summary>
    public static TrainedClassifier Load(Stream stream)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        try
        {
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("Not a Flowers classifier (its first bytes are wrong).");
            var version = reader.ReadInt32();
            if (version is not (1 or FormatVersion))
                throw new InvalidDataException(
                    $"Classifier format version {version} is not supported; this build reads versions 1 to {FormatVersion}.");
            var kind = reader.ReadString();
            var trainer = reader.ReadString();
            var dimension = reader.ReadInt32();
            var classCount = reader.ReadInt32();
            if (dimension < 1 || dimension > 1 << 20 || classCount < 2 || classCount > 1 << 16)
                throw new InvalidDataException($"The classifier header is corrupt ({classCount} classes of {dimension} features).");
            var classes = new string[classCount];
            for (var i = 0; i < classCount; i++) classes[i] = reader.ReadString();
            var normalization = version == 1 ? null : FeatureNormalization.Read(reader, dimension);
            IViewScorer scorer = kind switch
            {
                LinearSoftmax.KindName => LinearSoftmax.Read(reader, classCount, dimension),
                MlNetScorer.KindName => MlNetScorer.Read(reader, classCount, dimension),
                _ => throw new InvalidDataException($"Unknown classifier kind '{kind}'."),
            };
            return new TrainedClassifier(classes, dimension, trainer, scorer, normalization);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The classifier is truncated.", e);
        }
    }
}
