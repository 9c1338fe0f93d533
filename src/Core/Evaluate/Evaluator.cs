using Flowers.Train;

namespace Flowers.Evaluate;

/// <summary>Turns the classifier's probabilities on the test photos into the run's metrics.</summary>
public static class Evaluator
{
    private const double ProbabilityFloor = 1e-15; // as ML.NET's evaluator: one sure mistake must not make log-loss infinite

    /// <summary>Predicts every test photo (view-averaged, in parallel) and scores the predictions.</summary>
    public static Evaluation Evaluate(TrainedClassifier classifier, IReadOnlyList<LabeledFeatures> test)
    {
        var predictions = new PhotoPrediction[test.Count];
        Parallel.For(0, test.Count, i =>
            predictions[i] = new PhotoPrediction(test[i].Image, test[i].Label, classifier.Predict(test[i].Features)));
        return Evaluate(classifier.Classes, predictions);
    }

    /// <summary>Scores <paramref name="predictions"/>; the predicted class is the most probable one (first on a tie).</summary>
    public static Evaluation Evaluate(IReadOnlyList<string> classes, IReadOnlyList<PhotoPrediction> predictions)
    {
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classes.Count; i++)
            if (!classIndex.TryAdd(classes[i], i)) throw new ArgumentException($"Class '{classes[i]}' is listed twice.", nameof(classes));

        var n = classes.Count;
        var confusion = new int[n, n];
        double logLoss = 0;
        var misclassified = new List<Misclassification>();
        foreach (var p in predictions)
        {
            if (!classIndex.TryGetValue(p.Actual, out var actual))
                throw new ArgumentException($"Test photo {p.Image} is labelled '{p.Actual}', which is not one of the classes.", nameof(predictions));
            if (p.Probabilities.Length != n)
                throw new ArgumentException($"Test photo {p.Image} has {p.Probabilities.Length} probabilities for {n} classes.", nameof(predictions));
            var predicted = ArgMax(p.Probabilities);
            confusion[actual, predicted]++;
            logLoss -= Math.Log(Math.Clamp(p.Probabilities[actual], ProbabilityFloor, 1.0));
            if (predicted != actual)
                misclassified.Add(new Misclassification(p.Image, p.Actual, classes[predicted], p.Probabilities[predicted]));
        }

        var count = predictions.Count;
        var perClass = new ClassMetrics[n];
        int correct = 0, classesWithSupport = 0;
        double recallSum = 0;
        for (var c = 0; c < n; c++)
        {
            int support = 0, predictedAs = 0;
            for (var k = 0; k < n; k++)
            {
                support += confusion[c, k];
                predictedAs += confusion[k, c];
            }
            var truePositives = confusion[c, c];
            correct += truePositives;
            var precision = predictedAs > 0 ? (double)truePositives / predictedAs : 0;
            var recall = support > 0 ? (double)truePositives / support : 0;
            var f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
            perClass[c] = new ClassMetrics(classes[c], precision, recall, f1, support);
            if (support > 0)
            {
                classesWithSupport++;
                recallSum += recall;
            }
        }

        var counts = new IReadOnlyList<int>[n];
        var normalized = new IReadOnlyList<double>[n];
        for (var a = 0; a < n; a++)
        {
            var row = Enumerable.Range(0, n).Select(p => confusion[a, p]).ToArray();
            var total = row.Sum();
            counts[a] = row;
            normalized[a] = row.Select(v => total > 0 ? (double)v / total : 0).ToArray();
        }

        return new Evaluation
        {
            Classes = classes.ToArray(),
            Count = count,
            Accuracy = count > 0 ? (double)correct / count : 0,
            MacroAccuracy = classesWithSupport > 0 ? recallSum / classesWithSupport : 0,
            LogLoss = count > 0 ? logLoss / count : 0,
            ConfusionMatrix = counts,
            ConfusionMatrixNormalized = normalized,
            PerClass = perClass,
            Misclassified = misclassified
                .OrderByDescending(m => m.Confidence)
                .ThenBy(m => m.Image, StringComparer.Ordinal)
                .ToArray(),
        };
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
