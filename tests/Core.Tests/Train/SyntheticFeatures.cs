using Flowers.Train;

namespace Flowers.Tests.Train;

/// <summary>
/// Feature vectors made up for tests: each class is a Gaussian cluster around its own centre, and each
/// photo has a few views near the photo's own point (as a mirrored photo lands near the original).
/// </summary>
internal sealed class SyntheticFeatures(int seed, int dimension = 24, double spread = 0.5, double scale = 1)
{
    private readonly Random _random = new(seed);

    public int Dimension => dimension;

    public static readonly string[] Classes = ["daisy", "rose", "tulip"];

    public double[][] Centres { get; } = MakeCentres(new Random(seed + 1), Classes.Length, dimension);

    /// <summary><paramref name="perClass"/> photos of each class; labels scrambled when <paramref name="randomLabels"/>.</summary>
    public List<TrainingExample> Photos(int perClass, int views = 2, bool randomLabels = false, string prefix = "p")
    {
        var photos = new List<TrainingExample>();
        for (var c = 0; c < Classes.Length; c++)
            for (var i = 0; i < perClass; i++)
            {
                var point = Centres[c].Select(m => m + spread * Gaussian()).ToArray();
                var photoViews = Enumerable.Range(0, views)
                    .Select(_ => point.Select(v => (float)(scale * (v + 0.1 * spread * Gaussian()))).ToArray())
                    .ToArray();
                var label = randomLabels ? Classes[_random.Next(Classes.Length)] : Classes[c];
                photos.Add(new TrainingExample($"{label}/{prefix}{c}-{i}.jpg", label, photoViews));
            }
        return photos;
    }

    private static double[][] MakeCentres(Random random, int count, int dimension) =>
        Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, dimension).Select(_ => 2.0 * random.NextDouble()).ToArray())
            .ToArray();

    private double Gaussian()
    {
        // Box-Muller
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
