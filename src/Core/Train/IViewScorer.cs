namespace Flowers.Train;

/// <summary>A trained model that turns one feature vector (one view of a photo) into class probabilities.</summary>
internal interface IViewScorer
{
    /// <summary>Names the payload format in a saved classifier.</summary>
    string Kind { get; }

    /// <summary>Adds the class probabilities of <paramref name="view"/> to <paramref name="sum"/>. Thread-safe.</summary>
    void AddProbabilities(float[] view, Span<double> sum);

    void Write(BinaryWriter writer);
}
