using System.Collections.Concurrent;
using System.IO.Compression;
using Microsoft.ML;

namespace Flowers.Train;

/// <summary>
/// Any ML.NET multiclass model (LightGbm): kept as ML.NET's own model zip, scored through a pool of
/// PredictionEngines because one engine must not be used by two threads at once.
/// </summary>
internal sealed class MlNetScorer : IViewScorer
{
    public const string KindName = "mlnet-zip";

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly byte[] _zip;
    private readonly int _classCount;
    private readonly int _dimension;
    private readonly ConcurrentBag<PredictionEngine<FeatureRow, ScoreRow>> _engines = new();

    private MlNetScorer(MLContext ml, ITransformer model, byte[] zip, int classCount, int dimension)
    {
        _ml = ml;
        _model = model;
        _zip = zip;
        _classCount = classCount;
        _dimension = dimension;
    }

    public string Kind => KindName;

    public static MlNetScorer FromTrained(MLContext ml, ITransformer model, DataViewSchema inputSchema, int classCount, int dimension)
    {
        using var zip = new MemoryStream();
        ml.Model.Save(model, inputSchema, zip);
        return new MlNetScorer(ml, model, WithoutTimestamps(zip.ToArray()), classCount, dimension);
    }

    /// <summary>
    /// ML.NET stamps each zip entry with the time of saving; a fixed stamp makes the same model the
    /// same bytes (and so the same model id).
    /// </summary>
    private static byte[] WithoutTimestamps(byte[] zip)
    {
        var stamp = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
                copy.LastWriteTime = stamp;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        return output.ToArray();
    }

    public static MlNetScorer FromZip(byte[] zip, int classCount, int dimension)
    {
        var ml = new MLContext();
        ITransformer model;
        try
        {
            model = ml.Model.Load(new MemoryStream(zip, writable: false), out _);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"The classifier's ML.NET model cannot be loaded: {e.Message}", e);
        }
        return new MlNetScorer(ml, model, zip, classCount, dimension);
    }

    public void AddProbabilities(float[] view, Span<double> sum)
    {
        if (!_engines.TryTake(out var engine))
            engine = _ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(
                _model, inputSchemaDefinition: FeatureRow.Schema(_classCount, _dimension));
        float[] score;
        try
        {
            score = engine.Predict(new FeatureRow { Features = view }).Score;
        }
        finally
        {
            _engines.Add(engine);
        }
        if (score.Length != _classCount)
            throw new InvalidOperationException($"The model scored {score.Length} classes, expected {_classCount}.");
        // LightGbm's one-vs-all scores need not sum to 1: make them a distribution.
        double total = 0;
        foreach (var s in score) total += Math.Max(s, 0);
        for (var c = 0; c < _classCount; c++)
            sum[c] += total > 0 ? Math.Max(score[c], 0) / total : 1.0 / _classCount;
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(_zip.Length);
        writer.Write(_zip);
    }

    public static MlNetScorer Read(BinaryReader reader, int classCount, int dimension)
    {
        var length = reader.ReadInt32();
        if (length <= 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"The classifier's ML.NET model length {length} does not fit the file.");
        return FromZip(reader.ReadBytes(length), classCount, dimension);
    }
}
