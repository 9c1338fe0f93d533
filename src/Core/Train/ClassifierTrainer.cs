using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;

namespace Flowers.Train;

/// <summary>One training photo as the trainer needs it: its label and the feature vector of each view.</summary>
internal readonly record struct TrainingExample(string Image, string Label, IReadOnlyList<float[]> Views);

/// <summary>
/// Trains the classifier head on photo features with ML.NET. Every view of a training photo is a row
/// of its own (augmentation); the result averages over views when it predicts.
/// </summary>
public static class ClassifierTrainer
{
    /// <summary>
    /// Trains on <paramref name="train"/>; <paramref name="progress"/> goes from 0 to 1. Throws
    /// <see cref="ArgumentException"/> naming the photo or option that is wrong.
    /// </summary>
    /// <param name="stages">Lengths of the feature stages a view is made of (for <see cref="TrainerOptions.Normalization"/>); null = one.</param>
    /// <param name="threads">ML.NET's threads for one fit; null = all cores.</param>
    public static TrainedClassifier Train(IReadOnlyList<string> classes, IReadOnlyList<LabeledFeatures> train,
        TrainerOptions options, IReadOnlyList<int>? stages = null, IProgress<double>? progress = null, int? threads = null) =>
        Train(classes, train.Select(t => new TrainingExample(t.Image, t.Label, t.Features.Views)).ToArray(), options, stages, progress, threads);

    internal static TrainedClassifier Train(
        IReadOnlyList<string> classes, IReadOnlyList<TrainingExample> train, TrainerOptions options,
        IReadOnlyList<int>? stages = null, IProgress<double>? progress = null, int? threads = null)
    {
        options.Validate();
        if (options.L2 is null && options.Trainer != TrainerOptions.LightGbm)
            throw new ArgumentException("L2 is left to cross-validation: resolve it with HyperParameterSearch.Resolve first.", nameof(options));
        var classIndex = IndexClasses(classes);
        if (train.Count == 0) throw new ArgumentException("There are no training photos.", nameof(train));
        var dimension = train[0].Views.Count > 0 ? train[0].Views[0].Length : 0;
        if (dimension == 0) throw new ArgumentException($"Photo {train[0].Image} has no features.", nameof(train));
        var normalization = new FeatureNormalization(options.Normalization, stages ?? [dimension]);
        if (normalization.Dimension != dimension)
            throw new ArgumentException($"The photos have {dimension} features per view, the featurizer's stages {normalization.Dimension}.", nameof(stages));

        var rows = new List<FeatureRow>(train.Count * train[0].Views.Count);
        foreach (var photo in train)
        {
            if (!classIndex.TryGetValue(photo.Label, out var label))
                throw new ArgumentException($"Photo {photo.Image} is labelled '{photo.Label}', which is not one of the classes ({string.Join(", ", classes)}).", nameof(train));
            if (photo.Views.Count == 0) throw new ArgumentException($"Photo {photo.Image} has no feature views.", nameof(train));
            foreach (var view in photo.Views)
            {
                if (view.Length != dimension)
                    throw new ArgumentException($"Photo {photo.Image} has {view.Length} features per view, the others {dimension}.", nameof(train));
                if (!Array.TrueForAll(view, float.IsFinite))
                    throw new ArgumentException($"Photo {photo.Image} has features that are NaN or infinite.", nameof(train));
                rows.Add(new FeatureRow { Label = (uint)label, Features = normalization.Apply(view) });
            }
        }
        progress?.Report(0.05);

        var ml = new MLContext(options.Seed);
        IViewScorer trained = options.Trainer switch
        {
            TrainerOptions.Lbfgs or TrainerOptions.Sdca => TrainLinear(ml, rows, classes.Count, dimension, options, threads),
            _ => TrainLightGbm(ml, rows, classes.Count, dimension, options),
        };
        progress?.Report(1.0);
        return new TrainedClassifier(classes.ToArray(), dimension, options.Trainer, trained, normalization);
    }

    private static Dictionary<string, int> IndexClasses(IReadOnlyList<string> classes)
    {
        if (classes.Count < 2) throw new ArgumentException($"A classifier needs at least 2 classes, got {classes.Count}.", nameof(classes));
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(classes[i])) throw new ArgumentException("A class name is empty.", nameof(classes));
            if (!index.TryAdd(classes[i], i)) throw new ArgumentException($"Class '{classes[i]}' is listed twice.", nameof(classes));
        }
        return index;
    }

    private static LinearSoftmax TrainLinear(MLContext ml, List<FeatureRow> rows, int classCount, int dimension, TrainerOptions options, int? threads)
    {
        float[]? mean = null, scale = null;
        if (options.Normalize)
        {
            (mean, scale) = Standardization(rows, dimension);
            rows = rows.Select(r => new FeatureRow { Label = r.Label, Features = Standardize(r.Features, mean, scale) }).ToList();
        }
        var data = FeatureRow.ToDataView(ml, rows, classCount, dimension);

        MaximumEntropyModelParameters model;
        if (options.Trainer == TrainerOptions.Lbfgs)
        {
            model = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                L2Regularization = options.L2!.Value,
                L1Regularization = options.L1,
                MaximumNumberOfIterations = options.MaxIterations,
                NumberOfThreads = threads,
            }).Fit(data).Model;
        }
        else
        {
            // SDCA minimises mean loss + lambda/2 |w|^2 (L1 as a threshold relative to lambda); these make
            // it the same objective as L-BFGS's (sum loss + L2/2 |w|^2 + L1 |w|) / rows.
            var lambda = Math.Max(options.L2!.Value, 1e-6f) / rows.Count;
            model = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                L2Regularization = lambda,
                L1Regularization = options.L1 / rows.Count / lambda,
                MaximumNumberOfIterations = options.MaxIterations,
                NumberOfThreads = 1, // SDCA's threads race on the weights: one thread keeps it deterministic
                Shuffle = true,
            }).Fit(data).Model;
        }

        VBuffer<float>[] weights = [];
        model.GetWeights(ref weights, out var numClasses);
        if (numClasses != classCount)
            throw new InvalidOperationException($"ML.NET trained {numClasses} classes, expected {classCount}.");
        var dense = new float[classCount * dimension];
        for (var c = 0; c < classCount; c++) weights[c].CopyTo(dense, c * dimension);
        var linear = new LinearSoftmax(dense, model.GetBiases().ToArray(), dimension);
        return mean is null ? linear : linear.FoldStandardization(mean, scale!);
    }

    private static MlNetScorer TrainLightGbm(MLContext ml, List<FeatureRow> rows, int classCount, int dimension, TrainerOptions options)
    {
        if (TrainerNativeParts.Missing(TrainerOptions.LightGbm) is { } missing) throw new TrainerUnavailableException(missing);
        var data = FeatureRow.ToDataView(ml, rows, classCount, dimension);
        var model = ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            NumberOfLeaves = options.NumberOfLeaves,
            NumberOfIterations = options.NumberOfIterations,
            LearningRate = options.LearningRate,
            MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
            UseSoftmax = true,
            Seed = options.Seed,
            Deterministic = true,
            // LightGbm's OpenMP threads spin-wait: on a machine whose cores are shared, two of them
            // are much slower than one.
            NumberOfThreads = 1,
            Silent = true,
            Verbose = false,
        }).Fit(data);
        return MlNetScorer.FromTrained(ml, model, data.Schema, classCount, dimension);
    }

    private static (float[] Mean, float[] Scale) Standardization(List<FeatureRow> rows, int dimension)
    {
        var sum = new double[dimension];
        var sumSquares = new double[dimension];
        foreach (var row in rows)
            for (var j = 0; j < dimension; j++)
            {
                sum[j] += row.Features[j];
                sumSquares[j] += (double)row.Features[j] * row.Features[j];
            }
        var mean = new float[dimension];
        var scale = new float[dimension];
        for (var j = 0; j < dimension; j++)
        {
            var m = sum[j] / rows.Count;
            var sd = Math.Sqrt(Math.Max(sumSquares[j] / rows.Count - m * m, 0));
            mean[j] = (float)m;
            scale[j] = sd > 1e-6 ? (float)sd : 1f; // a constant feature stays as it is
        }
        return (mean, scale);
    }

    private static float[] Standardize(float[] x, float[] mean, float[] scale)
    {
        var z = new float[x.Length];
        for (var j = 0; j < x.Length; j++) z[j] = (x[j] - mean[j]) / scale[j];
        return z;
    }
}
