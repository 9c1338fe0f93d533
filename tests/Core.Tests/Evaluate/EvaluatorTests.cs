using Flowers.Evaluate;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Flowers.Tests.Evaluate;

public class EvaluatorTests
{
    private static readonly string[] Classes = ["daisy", "rose", "tulip"];

    [Fact]
    public void Small_case_worked_by_hand()
    {
        PhotoPrediction[] predictions =
        [
            new("daisy/1.jpg", "daisy", [0.8f, 0.1f, 0.1f]),
            new("daisy/2.jpg", "daisy", [0.3f, 0.6f, 0.1f]),  // wrong, 0.6
            new("rose/1.jpg", "rose", [0.1f, 0.7f, 0.2f]),
            new("rose/2.jpg", "rose", [0.05f, 0.9f, 0.05f]),
            new("tulip/1.jpg", "tulip", [0.1f, 0.1f, 0.8f]),
            new("tulip/2.jpg", "tulip", [0.9f, 0.05f, 0.05f]), // wrong, 0.9
        ];

        var e = Evaluator.Evaluate(Classes, predictions);

        Assert.Equal(6, e.Count);
        Assert.Equal(4.0 / 6, e.Accuracy, 12);
        Assert.Equal((0.5 + 1.0 + 0.5) / 3, e.MacroAccuracy, 12);
        var logLoss = -(Math.Log(0.8f) + Math.Log(0.3f) + Math.Log(0.7f) + Math.Log(0.9f) + Math.Log(0.8f) + Math.Log(0.05f)) / 6;
        Assert.Equal(logLoss, e.LogLoss, 6);
        Assert.Equal([[1, 1, 0], [0, 2, 0], [1, 0, 1]], e.ConfusionMatrix.Select(r => r.ToArray()).ToArray());
        Assert.Equal([0.5, 0.5, 0.0], e.ConfusionMatrixNormalized[0]);
        Assert.Equal(new ClassMetrics("daisy", 0.5, 0.5, 0.5, 2), e.PerClass[0]);
        Assert.Equal("rose", e.PerClass[1].Label);
        Assert.Equal(2.0 / 3, e.PerClass[1].Precision, 12);
        Assert.Equal(1.0, e.PerClass[1].Recall, 12);
        Assert.Equal(0.8, e.PerClass[1].F1, 12);
        Assert.Equal((1.0, 0.5, 2), (e.PerClass[2].Precision, e.PerClass[2].Recall, e.PerClass[2].Support));
        Assert.Equal(2.0 / 3, e.PerClass[2].F1, 12);
        Assert.Equal(["tulip/2.jpg", "daisy/2.jpg"], e.Misclassified.Select(m => m.Image));
        Assert.Equal(new Misclassification("tulip/2.jpg", "tulip", "daisy", 0.9f), e.Misclassified[0]);
    }

    [Fact]
    public void A_class_without_test_photos_has_zero_support_and_does_not_count_in_macro_accuracy()
    {
        var e = Evaluator.Evaluate(Classes,
        [
            new("daisy/1.jpg", "daisy", [0.8f, 0.1f, 0.1f]),
            new("rose/1.jpg", "rose", [0.6f, 0.3f, 0.1f]),
        ]);

        Assert.Equal(0.5, e.MacroAccuracy, 12);
        Assert.Equal(0, e.PerClass[2].Support);
        Assert.Equal([0.0, 0.0, 0.0], e.ConfusionMatrixNormalized[2]);
    }

    [Fact]
    public void A_certain_mistake_gives_a_large_but_finite_log_loss()
    {
        var e = Evaluator.Evaluate(Classes, [new("daisy/1.jpg", "daisy", [0f, 1f, 0f])]);
        Assert.Equal(-Math.Log(1e-15), e.LogLoss, 6);
    }

    [Fact]
    public void Unknown_class_or_wrong_probability_count_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(Classes, [new("lily/1.jpg", "lily", [1f, 0f, 0f])]));
        Assert.Contains("lily/1.jpg", e.Message);
        e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(Classes, [new("rose/1.jpg", "rose", [1f, 0f])]));
        Assert.Contains("rose/1.jpg", e.Message);
    }

    private sealed class ScoredRow
    {
        public uint Label { get; set; }
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }

    [Fact]
    public void Agrees_with_MLNET_multiclass_metrics()
    {
        var random = new Random(42);
        var predictions = Enumerable.Range(0, 300).Select(i =>
        {
            var actual = random.Next(3);
            var raw = Enumerable.Range(0, 3).Select(c => random.NextDouble() + (c == actual ? 0.6 : 0)).ToArray();
            var probabilities = raw.Select(r => (float)(r / raw.Sum())).ToArray();
            return new PhotoPrediction($"{Classes[actual]}/{i}.jpg", Classes[actual], probabilities);
        }).ToList();

        var ours = Evaluator.Evaluate(Classes, predictions);

        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(ScoredRow));
        schema[nameof(ScoredRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        schema[nameof(ScoredRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        schema[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        var rows = predictions.Select(p => new ScoredRow
        {
            Label = (uint)Array.IndexOf(Classes, p.Actual),
            Score = p.Probabilities,
            PredictedLabel = (uint)Array.IndexOf(p.Probabilities, p.Probabilities.Max()),
        });
        var theirs = ml.MulticlassClassification.Evaluate(ml.Data.LoadFromEnumerable(rows, schema));

        Assert.InRange(ours.Accuracy, 0.4, 0.9); // a case with mistakes in every class
        Assert.Equal(theirs.MicroAccuracy, ours.Accuracy, 9);
        Assert.Equal(theirs.MacroAccuracy, ours.MacroAccuracy, 9);
        Assert.Equal(theirs.LogLoss, ours.LogLoss, 5);
        for (var a = 0; a < 3; a++)
        {
            for (var p = 0; p < 3; p++)
                Assert.Equal(theirs.ConfusionMatrix.Counts[a][p], ours.ConfusionMatrix[a][p]);
            Assert.Equal(theirs.ConfusionMatrix.PerClassPrecision[a], ours.PerClass[a].Precision, 9);
            Assert.Equal(theirs.ConfusionMatrix.PerClassRecall[a], ours.PerClass[a].Recall, 9);
        }
    }
}
