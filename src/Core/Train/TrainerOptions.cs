namespace Flowers.Train;

/// <summary>
/// Which ML.NET multiclass trainer learns the classifier head, and its hyper-parameters.
/// The defaults work on ResNet18 features of the flower photos; every number is an option so the
/// CLI and the bench can try others.
/// </summary>
public sealed record TrainerOptions
{
    public const string Lbfgs = "lbfgs";
    public const string Sdca = "sdca";
    public const string LightGbm = "lightgbm";

    public static IReadOnlyList<string> Trainers { get; } = [Lbfgs, Sdca, LightGbm];

    /// <summary><c>lbfgs</c> (L-BFGS maximum entropy), <c>sdca</c> (SDCA maximum entropy) or <c>lightgbm</c>.</summary>
    public string Trainer { get; init; } = Lbfgs;

    /// <summary>
    /// L2 penalty on the weights of the linear trainers, in L-BFGS's units: it is added once to the
    /// summed log-loss of all rows (so it does not grow with the data set). SDCA is given the same
    /// objective (its per-row lambda is L2 / rows). Null (the default): L2 and <see cref="Normalize"/> are chosen
    /// together from <see cref="Candidates"/> by <see cref="ValidationFolds"/>-fold cross-validation on the training
    /// photos (<see cref="HyperParameterSearch"/>).
    /// </summary>
    public float? L2 { get; init; }

    /// <summary>The L2 a run takes when it has too few photos a class to cross-validate (with <see cref="Normalize"/> off).</summary>
    public const float DefaultL2 = 0.1f;

    /// <summary>
    /// What cross-validation chooses from. Normalised features without standardising did best with an L2 near 0.1
    /// (flowers128), standardised ones near 3 to 30 (oxford17 at 288 px); the grid spans both.
    /// </summary>
    public IReadOnlyList<HeadCandidate> Candidates { get; init; } =
        [new(false, 0.03f), new(false, 0.1f), new(false, 0.3f), new(true, 3f), new(true, 30f), new(true, 300f)];

    /// <summary>Folds of the cross-validation that chooses L2 (fewer when a class has fewer training photos).</summary>
    public int ValidationFolds { get; init; } = 5;

    /// <summary>What each view's features go through before the trainer sees them (<see cref="FeatureNormalization"/>).</summary>
    public string Normalization { get; init; } = FeatureNormalization.SqrtStageL2;

    /// <summary>L1 penalty of the linear trainers, same units as <see cref="L2"/>; 0 keeps every feature.</summary>
    public float L1 { get; init; }

    /// <summary>Cap on L-BFGS iterations, or on SDCA passes over the data.</summary>
    public int MaxIterations { get; init; } = 300;

    /// <summary>Seeds ML.NET's context and the trainers: the same seed and data give the same model.</summary>
    public int Seed { get; init; } = 2018;

    /// <summary>
    /// Standardise each feature (zero mean, unit variance over the training rows, after <see cref="Normalization"/>)
    /// before a linear trainer sees it; the scaling is folded into the saved weights. LightGbm ignores it (trees are
    /// scale-free).
    /// </summary>
    public bool Normalize { get; init; }

    /// <summary>LightGbm: leaves per tree.</summary>
    public int NumberOfLeaves { get; init; } = 31;

    /// <summary>LightGbm: boosting rounds.</summary>
    public int NumberOfIterations { get; init; } = 100;

    /// <summary>LightGbm: shrinkage per round.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>LightGbm: fewest training rows in a leaf.</summary>
    public int MinimumExampleCountPerLeaf { get; init; } = 20;

    /// <summary>Most L-BFGS iterations or SDCA passes: the default 300 converges on flowers; past 10,000 a request only buys CPU time.</summary>
    public const int MaxMaxIterations = 10_000;

    /// <summary>Most LightGbm leaves a tree: memory and time grow with leaves; 1024 is far past what 960 features need.</summary>
    public const int MaxNumberOfLeaves = 1024;

    /// <summary>Most LightGbm boosting rounds: the default is 100; 10,000 rounds already take hours on a data set of thousands.</summary>
    public const int MaxNumberOfIterations = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that makes no sense (an
    /// <see cref="InvalidTrainerOptionException"/> for those with a ceiling, carrying the option's JSON name).</summary>
    public void Validate()
    {
        if (!Trainers.Contains(Trainer))
            throw new ArgumentException($"Unknown trainer '{Trainer}': use one of {string.Join(", ", Trainers)}.");
        if (L2 is { } l2 && (!(l2 >= 0) || float.IsInfinity(l2)))
            throw new ArgumentException($"L2 must be a finite number >= 0, not {l2}.");
        if (Candidates.Count == 0 || Candidates.Any(c => !(c.L2 >= 0) || float.IsInfinity(c.L2)))
            throw new ArgumentException($"Candidates must be one or more, each with a finite L2 >= 0, not [{string.Join(", ", Candidates)}].");
        if (ValidationFolds is < 2 or > 20)
            throw new ArgumentException($"ValidationFolds must be between 2 and 20, not {ValidationFolds}.");
        if (!FeatureNormalization.Kinds.Contains(Normalization))
            throw new ArgumentException($"Unknown normalization '{Normalization}': use one of {string.Join(", ", FeatureNormalization.Kinds)}.");
        if (!(L1 >= 0) || float.IsInfinity(L1))
            throw new ArgumentException($"L1 must be a finite number >= 0, not {L1}.");
        if (MaxIterations is < 1 or > MaxMaxIterations)
            throw new InvalidTrainerOptionException("maxIterations", $"MaxIterations must be from 1 to {MaxMaxIterations}, not {MaxIterations}.");
        if (NumberOfLeaves is < 2 or > MaxNumberOfLeaves)
            throw new InvalidTrainerOptionException("numberOfLeaves", $"NumberOfLeaves must be from 2 to {MaxNumberOfLeaves}, not {NumberOfLeaves}.");
        if (NumberOfIterations is < 1 or > MaxNumberOfIterations)
            throw new InvalidTrainerOptionException("numberOfIterations", $"NumberOfIterations must be from 1 to {MaxNumberOfIterations}, not {NumberOfIterations}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"LearningRate must be a finite number > 0, not {LearningRate}.");
        if (MinimumExampleCountPerLeaf < 1)
            throw new ArgumentException($"MinimumExampleCountPerLeaf must be at least 1, not {MinimumExampleCountPerLeaf}.");
    }
}

/// <summary>An option out of its range; <see cref="Option"/> is its JSON name (maxIterations), for a 400 naming it.</summary>
public sealed class InvalidTrainerOptionException(string option, string message) : ArgumentException(message)
{
    public string Option { get; } = option;
}

/// <summary>One setting of the linear head that cross-validation tries.</summary>
public sealed record HeadCandidate(bool Normalize, float L2)
{
    public override string ToString() => $"{(Normalize ? "standardised" : "as normalised")}, L2={L2}";
}
