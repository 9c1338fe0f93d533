using System.Security.Cryptography;
using System.Text;

namespace Flowers.Train;

/// <summary>One candidate's score on the training photos it was not trained on (k-fold cross-validation).</summary>
public sealed record ValidationScore(bool Normalize, float L2, double Accuracy, double LogLoss);

/// <summary>How the head's settings were chosen: every candidate's validation score and the winner.</summary>
public sealed record HyperParameterChoice(int Folds, string Rule, IReadOnlyList<ValidationScore> Candidates, HeadCandidate Chosen);

/// <summary>
/// Chooses the linear head's L2 penalty and whether to standardise on the training photos alone: k folds, stratified by class, a photo's views
/// always in one fold; the candidate with the highest out-of-fold accuracy wins, the lower log-loss on a tie. The
/// test photos never take part.
/// </summary>
public static class HyperParameterSearch
{
    public const string Rule = "highest out-of-fold accuracy, then lowest log-loss";

    /// <summary>
    /// <paramref name="options"/> with its L2 set: as given when it is, chosen by cross-validation (the choice is
    /// returned too) when it is null.
    /// </summary>
    public static (TrainerOptions Options, HyperParameterChoice? Choice) Resolve(IReadOnlyList<string> classes,
        IReadOnlyList<LabeledFeatures> train, TrainerOptions options, IReadOnlyList<int> stages, IProgress<double>? progress = null)
    {
        options.Validate();
        if (options.L2 is not null || options.Trainer == TrainerOptions.LightGbm) return (options, null);
        var choice = Choose(classes, train, options, stages, progress);
        return (options with { L2 = choice.Chosen.L2, Normalize = choice.Chosen.Normalize }, choice);
    }

    static HyperParameterChoice Choose(IReadOnlyList<string> classes, IReadOnlyList<LabeledFeatures> train,
        TrainerOptions options, IReadOnlyList<int> stages, IProgress<double>? progress)
    {
        var candidates = options.Candidates;
        var smallest = train.GroupBy(t => t.Label, StringComparer.Ordinal).Min(g => g.Count());
        var k = Math.Min(options.ValidationFolds, smallest);
        if (k < 2) return new HyperParameterChoice(0, $"not validated: a class has {smallest} training photo(s); the default L2", [], new(false, TrainerOptions.DefaultL2));
        var folds = AssignFolds(train, k, options.Seed);
        var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        // Per candidate and photo: the probability of its true class and whether it came out on top.
        var correct = new bool[candidates.Count, train.Count];
        var trueProbability = new double[candidates.Count, train.Count];
        var done = 0;
        var fits = candidates.Count * k;
        Parallel.For(0, candidates.Count * k, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
        {
            var (candidate, fold) = (job / k, job % k);
            var rest = Enumerable.Range(0, train.Count).Where(i => folds[i] != fold).Select(i => train[i]).ToList();
            // One thread a fit: the fits themselves run in parallel, and one thread keeps each deterministic.
            var classifier = ClassifierTrainer.Train(classes, rest, options with { L2 = candidates[candidate].L2, Normalize = candidates[candidate].Normalize }, stages, threads: 1);
            for (var i = 0; i < train.Count; i++)
            {
                if (folds[i] != fold) continue;
                var p = classifier.Predict(train[i].Features);
                var actual = classIndex[train[i].Label];
                trueProbability[candidate, i] = p[actual];
                correct[candidate, i] = Array.IndexOf(p, p.Max()) == actual;
            }
            progress?.Report((double)Interlocked.Increment(ref done) / fits);
        });

        var scores = candidates.Select((h, c) => new ValidationScore(h.Normalize, h.L2,
            Math.Round(Enumerable.Range(0, train.Count).Count(i => correct[c, i]) / (double)train.Count, 4),
            Math.Round(Enumerable.Range(0, train.Count).Average(i => -Math.Log(Math.Clamp(trueProbability[c, i], 1e-15, 1))), 4))).ToList();
        var best = scores.OrderByDescending(s => s.Accuracy).ThenBy(s => s.LogLoss).First();
        return new HyperParameterChoice(k, Rule, scores, new HeadCandidate(best.Normalize, best.L2));
    }

    /// <summary>Fold of each photo: within each class, photos ordered by a hash of (seed, name) are dealt out in turn.</summary>
    internal static int[] AssignFolds(IReadOnlyList<LabeledFeatures> train, int folds, int seed)
    {
        var assigned = new int[train.Count];
        foreach (var group in Enumerable.Range(0, train.Count).GroupBy(i => train[i].Label, StringComparer.Ordinal))
        {
            var next = 0;
            foreach (var i in group.OrderBy(i => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{train[i].Image}"))), StringComparer.Ordinal))
                assigned[i] = next++ % folds;
        }
        return assigned;
    }
}
