using Flowers.Train;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Flowers.Tests.Train;

public class ClassifierTrainerTests
{
    // Raw features and a fixed L2: ML.NET's own objective, so the comparisons with ML.NET below hold exactly.
    private static readonly TrainerOptions Fast = new()
    {
        NumberOfIterations = 40, MaxIterations = 100, L2 = 100, Normalization = FeatureNormalization.None, Normalize = false,
    };

    private static double Accuracy(TrainedClassifier classifier, IEnumerable<TrainingExample> test)
    {
        var photos = test.ToList();
        var right = photos.Count(p =>
        {
            var probabilities = classifier.Predict(p.Views);
            return classifier.Classes[Array.IndexOf(probabilities, probabilities.Max())] == p.Label;
        });
        return (double)right / photos.Count;
    }

    [Theory]
    [InlineData(TrainerOptions.Lbfgs)]
    [InlineData(TrainerOptions.Sdca)]
    [InlineData(TrainerOptions.LightGbm)]
    public void Separable_clusters_are_learned(string trainer)
    {
        var features = new SyntheticFeatures(seed: 1);
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(40), Fast with { Trainer = trainer });

        Assert.Equal(SyntheticFeatures.Classes, classifier.Classes);
        Assert.Equal(trainer, classifier.Trainer);
        Assert.Equal(features.Dimension, classifier.Dimension);
        Assert.InRange(Accuracy(classifier, features.Photos(20, prefix: "t")), 0.95, 1.0);
    }

    [Theory]
    [InlineData(TrainerOptions.Lbfgs)]
    [InlineData(TrainerOptions.LightGbm)]
    public void Random_labels_give_chance_accuracy(string trainer)
    {
        var features = new SyntheticFeatures(seed: 2);
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(40, randomLabels: true), Fast with { Trainer = trainer });

        var accuracy = Accuracy(classifier, features.Photos(60, randomLabels: true, prefix: "t"));
        Assert.InRange(accuracy, 0.15, 0.55); // chance is 1/3; 180 test photos
    }

    [Theory]
    [InlineData(TrainerOptions.Lbfgs)]
    [InlineData(TrainerOptions.Sdca)]
    [InlineData(TrainerOptions.LightGbm)]
    public void Probabilities_are_a_distribution_averaged_over_views(string trainer)
    {
        var features = new SyntheticFeatures(seed: 3);
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(30), Fast with { Trainer = trainer });
        var photo = features.Photos(1, views: 3, prefix: "t")[0];

        var mean = classifier.Predict(photo.Views);
        var each = photo.Views.Select(v => classifier.Predict([v])).ToArray();

        Assert.Equal(3, mean.Length);
        Assert.Equal(1.0, mean.Sum(), 4);
        for (var c = 0; c < 3; c++)
            Assert.Equal(each.Average(p => p[c]), mean[c], 5);
    }

    [Theory]
    [InlineData(TrainerOptions.Lbfgs)]
    [InlineData(TrainerOptions.Sdca)]
    [InlineData(TrainerOptions.LightGbm)]
    public void Same_seed_and_data_give_the_same_model_and_save_load_keeps_it(string trainer)
    {
        var options = Fast with { Trainer = trainer, Seed = 7 };
        var first = ClassifierTrainer.Train(SyntheticFeatures.Classes, new SyntheticFeatures(seed: 4).Photos(30), options);
        var second = ClassifierTrainer.Train(SyntheticFeatures.Classes, new SyntheticFeatures(seed: 4).Photos(30), options);
        var test = new SyntheticFeatures(seed: 5).Photos(5);

        var loaded = TrainedClassifier.Load(new MemoryStream(first.ToBytes()));

        Assert.Equal(first.ToBytes(), second.ToBytes());
        Assert.Equal(first.Classes, loaded.Classes);
        Assert.Equal(first.Trainer, loaded.Trainer);
        foreach (var photo in test)
            Assert.Equal(first.Predict(photo.Views), loaded.Predict(photo.Views));
    }

    [Fact]
    public void Linear_softmax_matches_MLNET_own_prediction()
    {
        var photos = new SyntheticFeatures(seed: 6).Photos(30, views: 1);
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, photos, Fast);

        // The same training through ML.NET's own prediction path.
        var ml = new MLContext(Fast.Seed);
        var rows = photos.Select(p => new FeatureRow { Label = (uint)Array.IndexOf(SyntheticFeatures.Classes, p.Label), Features = p.Views[0] });
        var data = FeatureRow.ToDataView(ml, rows, 3, photos[0].Views[0].Length);
        var model = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            L2Regularization = Fast.L2!.Value, L1Regularization = Fast.L1, MaximumNumberOfIterations = Fast.MaxIterations,
        }).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, inputSchemaDefinition: FeatureRow.Schema(3, photos[0].Views[0].Length));

        foreach (var photo in new SyntheticFeatures(seed: 7).Photos(4, views: 1))
        {
            var expected = engine.Predict(new FeatureRow { Features = photo.Views[0] }).Score;
            var actual = classifier.Predict(photo.Views);
            for (var c = 0; c < 3; c++) Assert.Equal(expected[c], actual[c], tolerance: 1e-5);
        }
    }

    [Fact]
    public void Normalize_copes_with_features_on_wildly_different_scales_and_predicts_raw_features()
    {
        var features = new SyntheticFeatures(seed: 8, scale: 1000);
        var options = Fast with { Normalize = true, L2 = 1 };
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(40), options);

        Assert.InRange(Accuracy(classifier, features.Photos(20, prefix: "t")), 0.95, 1.0);
    }

    [Fact]
    public void The_default_normalization_is_saved_with_the_model_and_applied_to_every_view()
    {
        var features = new SyntheticFeatures(seed: 13, dimension: 12);
        var stages = new[] { 4, 8 };
        var options = Fast with { Normalization = FeatureNormalization.SqrtStageL2, Normalize = true, L2 = 1 };
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(30), options, stages);
        var loaded = TrainedClassifier.Load(new MemoryStream(classifier.ToBytes()));

        Assert.Equal(FeatureNormalization.SqrtStageL2, loaded.Normalization.Kind);
        Assert.Equal(stages, loaded.Normalization.Stages);
        Assert.InRange(Accuracy(loaded, features.Photos(20, prefix: "t")), 0.8, 1.0); // chance is 1/3
        // A photo 100 times brighter has the same normalised features, so the same prediction.
        var photo = features.Photos(1, prefix: "x")[0];
        Assert.Equal(loaded.Predict(photo.Views), loaded.Predict(photo.Views.Select(v => v.Select(x => x * 100).ToArray()).ToArray()), new FloatTolerance(1e-5f));
        Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(5), options, [4, 4]));
        Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(5), options with { L2 = null }));
    }

    [Fact]
    public void Predictions_from_many_threads_agree_with_one_thread()
    {
        var features = new SyntheticFeatures(seed: 9);
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, features.Photos(30), Fast with { Trainer = TrainerOptions.LightGbm });
        var test = features.Photos(30, prefix: "t");
        var sequential = test.Select(p => classifier.Predict(p.Views)).ToArray();

        var parallel = new float[test.Count][];
        Parallel.For(0, test.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = classifier.Predict(test[i].Views));

        for (var i = 0; i < test.Count; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void Bad_training_input_is_named()
    {
        var photos = new SyntheticFeatures(seed: 10).Photos(3);
        photos.Add(new TrainingExample("lily/x.jpg", "lily", photos[0].Views));
        var e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(SyntheticFeatures.Classes, photos, Fast));
        Assert.Contains("lily/x.jpg", e.Message);

        photos[^1] = new TrainingExample("rose/short.jpg", "rose", [new float[5]]);
        e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(SyntheticFeatures.Classes, photos, Fast));
        Assert.Contains("rose/short.jpg", e.Message);

        e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(SyntheticFeatures.Classes, photos, Fast with { Trainer = "svm" }));
        Assert.Contains("svm", e.Message);
        Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(["only"], photos, Fast));
    }

    [Fact]
    public void Predict_rejects_features_of_another_size()
    {
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, new SyntheticFeatures(seed: 11).Photos(10), Fast);
        var e = Assert.Throws<ArgumentException>(() => classifier.Predict([new float[classifier.Dimension + 1]]));
        Assert.Contains("featurizer", e.Message);
    }

    [Fact]
    public void Loading_garbage_or_a_truncated_classifier_says_so()
    {
        Assert.Throws<InvalidDataException>(() => TrainedClassifier.Load(new MemoryStream("not a model at all"u8.ToArray())));
        var bytes = ClassifierTrainer.Train(SyntheticFeatures.Classes, new SyntheticFeatures(seed: 12).Photos(10), Fast).ToBytes();
        var e = Assert.Throws<InvalidDataException>(() => TrainedClassifier.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Contains("truncated", e.Message);
        bytes[8] = 99; // format version
        e = Assert.Throws<InvalidDataException>(() => TrainedClassifier.Load(new MemoryStream(bytes)));
        Assert.Contains("version 99", e.Message);
    }
}
