using Flowers.Featurize;
using Flowers.Train;

namespace Flowers.Tests.Train;

public class HyperParameterSearchTests
{
    static List<LabeledFeatures> Labelled(List<TrainingExample> photos) =>
        photos.Select(p => new LabeledFeatures(p.Image, p.Label, new PhotoFeatures([.. p.Views]))).ToList();

    static readonly TrainerOptions Options = new() { MaxIterations = 100, Normalization = FeatureNormalization.None };

    [Fact]
    public void Folds_keep_every_class_spread_evenly_and_each_photo_whole()
    {
        var photos = Labelled(new SyntheticFeatures(seed: 20).Photos(11));
        var folds = HyperParameterSearch.AssignFolds(photos, 5, seed: 2018);

        foreach (var cls in SyntheticFeatures.Classes)
        {
            var counts = Enumerable.Range(0, 5).Select(f => photos.Where((p, i) => p.Label == cls && folds[i] == f).Count()).ToList();
            Assert.InRange(counts.Max() - counts.Min(), 0, 1);
        }
        Assert.Equal(folds, HyperParameterSearch.AssignFolds(photos, 5, seed: 2018));
        Assert.NotEqual(folds, HyperParameterSearch.AssignFolds(photos, 5, seed: 7));
    }

    [Fact]
    public void Candidates_are_scored_out_of_fold_and_the_best_by_the_rule_wins()
    {
        var photos = Labelled(new SyntheticFeatures(seed: 21, spread: 1.2).Photos(25));
        var options = Options with { Candidates = [new(false, 1f), new(false, 1e6f), new(true, 3f)] };

        var (resolved, choice) = HyperParameterSearch.Resolve(SyntheticFeatures.Classes, photos, options, [24]);

        Assert.NotNull(choice);
        Assert.Equal(5, choice.Folds);
        Assert.Equal(options.Candidates, choice.Candidates.Select(c => new HeadCandidate(c.Normalize, c.L2)));
        var best = choice.Candidates.OrderByDescending(c => c.Accuracy).ThenBy(c => c.LogLoss).First();
        Assert.Equal(new HeadCandidate(best.Normalize, best.L2), choice.Chosen);
        Assert.Equal((best.L2, best.Normalize), (resolved.L2!.Value, resolved.Normalize));
        // A penalty of a million leaves the head near uniform (log-loss near ln 3), which validation must see.
        Assert.InRange(choice.Candidates[1].LogLoss, 1.0, 1.1);
        Assert.True(choice.Candidates[0].LogLoss < 0.9, $"L2 = 1 fits: {choice.Candidates[0]}");
        Assert.All(choice.Candidates, c => Assert.InRange(c.Accuracy, 0.34, 1.0));
        // The same photos and seed choose the same way.
        Assert.Equal(choice.Candidates, HyperParameterSearch.Resolve(SyntheticFeatures.Classes, photos, options, [24]).Choice!.Candidates);
    }

    [Fact]
    public void A_given_L2_is_kept_and_too_few_photos_take_the_default_and_say_so()
    {
        var photos = Labelled(new SyntheticFeatures(seed: 22).Photos(6));
        var (given, none) = HyperParameterSearch.Resolve(SyntheticFeatures.Classes, photos, Options with { L2 = 3 }, [24]);
        Assert.Equal(3f, given.L2);
        Assert.Null(none);

        var three = Labelled(new SyntheticFeatures(seed: 24).Photos(3));
        var (_, reduced) = HyperParameterSearch.Resolve(SyntheticFeatures.Classes, three, Options, [24]);
        Assert.Equal(3, reduced!.Folds); // as many folds as the smallest class has photos
        Assert.Equal(Options.Candidates.Count, reduced.Candidates.Count);
        var tiny = Labelled(new SyntheticFeatures(seed: 23).Photos(1));
        var (fallback, notValidated) = HyperParameterSearch.Resolve(SyntheticFeatures.Classes, tiny, Options, [24]);
        Assert.Equal(TrainerOptions.DefaultL2, fallback.L2);
        Assert.Empty(notValidated!.Candidates);
        Assert.Contains("not validated", notValidated.Rule);
    }
}
