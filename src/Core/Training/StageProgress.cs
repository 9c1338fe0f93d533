namespace Flowers.Training;

/// <summary>How far a stage of a training run has got.</summary>
/// <param name="Stage">One of <see cref="Stages"/>.</param>
/// <param name="Done">Units done (photos, bytes, ...).</param>
/// <param name="Total">Units in all, when known.</param>
/// <param name="Item">What is being worked on, for display.</param>
public sealed record StageProgress(string Stage, long Done, long? Total, string? Item = null);

/// <summary>The stages of a training run, in order.</summary>
public static class Stages
{
    public const string Acquire = "acquire";
    public const string Featurize = "featurize";
    public const string Train = "train";
    public const string Evaluate = "evaluate";
    public const string Package = "package";

    public static IReadOnlyList<string> All { get; } = [Acquire, Featurize, Train, Evaluate, Package];
}
