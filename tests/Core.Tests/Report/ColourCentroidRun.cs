using Flowers.Acquire;
using Flowers.Evaluate;
using Flowers.Report;
using SkiaSharp;

namespace Flowers.Tests.Report;

/// <summary>
/// A small but real run for report tests until the Train/Evaluate stages land: a nearest-mean-colour
/// classifier trained on 80% of the photos of each class and evaluated on the rest. Its metrics are computed,
/// not made up, so the report shows what a weak classifier really gets wrong.
/// </summary>
internal static class ColourCentroidRun
{
    public sealed record Photo(string Class, string Image, byte[] Bytes);

    public static ReportInput Build(IReadOnlyList<Photo> photos, string title, int seed = 2018)
    {
        var classes = photos.Select(p => p.Class).Distinct().Order(StringComparer.Ordinal).ToList();
        var random = new Random(seed);
        var train = new List<(Photo Photo, float[] Colour)>();
        var test = new List<(Photo Photo, float[] Colour)>();
        var skipped = new List<SkippedPhoto>();
        foreach (var group in photos.GroupBy(p => p.Class))
        {
            var readable = new List<(Photo, float[])>();
            foreach (var photo in group)
            {
                var colour = MeanColour(photo.Bytes);
                if (colour is null) skipped.Add(new SkippedPhoto(photo.Image, "not an image"));
                else readable.Add((photo, colour));
            }
            var shuffled = readable.OrderBy(_ => random.Next()).ToList();
            int testCount = Math.Max(1, (int)Math.Round(shuffled.Count * 0.2));
            test.AddRange(shuffled.Take(testCount));
            train.AddRange(shuffled.Skip(testCount));
        }

        var centroids = classes.Select(c =>
        {
            var members = train.Where(t => t.Photo.Class == c).Select(t => t.Colour).ToList();
            return Enumerable.Range(0, 3).Select(k => members.Average(v => v[k])).ToArray();
        }).ToList();

        int n = classes.Count;
        var confusion = new int[n][];
        for (int i = 0; i < n; i++) confusion[i] = new int[n];
        var wrong = new List<Misclassification>();
        double logLoss = 0;
        foreach (var (photo, colour) in test)
        {
            // Softmax over negative squared distances: a probability per class, as a real classifier gives.
            var scores = centroids.Select(c => -Enumerable.Range(0, 3).Sum(k => Math.Pow(colour[k] - c[k], 2)) / 1000.0).ToArray();
            double max = scores.Max();
            var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
            var probabilities = exp.Select(e => e / exp.Sum()).ToArray();
            int actual = classes.IndexOf(photo.Class), predicted = Array.IndexOf(probabilities, probabilities.Max());
            confusion[actual][predicted]++;
            logLoss -= Math.Log(Math.Max(probabilities[actual], 1e-15));
            if (predicted != actual)
                wrong.Add(new Misclassification(photo.Image, photo.Class, classes[predicted], probabilities[predicted]));
        }

        var perClass = Enumerable.Range(0, n).Select(i =>
        {
            int truePositive = confusion[i][i], support = confusion[i].Sum(), predictedAs = confusion.Sum(r => r[i]);
            double precision = predictedAs == 0 ? 0 : (double)truePositive / predictedAs;
            double recall = support == 0 ? 0 : (double)truePositive / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            return new ClassMetrics(classes[i], precision, recall, f1, support);
        }).ToList();

        var metrics = new RunMetrics
        {
            Accuracy = (double)Enumerable.Range(0, n).Sum(i => confusion[i][i]) / test.Count,
            MacroAccuracy = perClass.Average(c => c.Recall),
            LogLoss = logLoss / test.Count,
            Classes = classes,
            ConfusionMatrix = confusion,
            ConfusionMatrixNormalized = confusion.Select(r => r.Select(v => r.Sum() == 0 ? 0 : (double)v / r.Sum()).ToArray()).ToArray(),
            PerClass = perClass,
            Misclassified = wrong.OrderByDescending(w => w.Confidence).ToList(),
            TrainCount = train.Count,
            TestCount = test.Count,
            Skipped = skipped,
            Featurizer = "mean-colour",
            Trainer = "nearest-centroid",
            Timings = new RunTimings(0.4, 1.2, 0.1, 1.7),
            FeaturizeImagesPerSecond = photos.Count / 1.2,
        };

        var counts = classes.Select(c => new ClassCounts(c,
            train.Count(t => t.Photo.Class == c), test.Count(t => t.Photo.Class == c),
            skipped.Count(s => s.Image.StartsWith(c + "/", StringComparison.Ordinal)))).ToList();
        var samples = train.GroupBy(t => t.Photo.Class).SelectMany(g => g.Take(PhotoGrid.MaxSamplesPerClass))
            .Select(t => new SamplePhoto(t.Photo.Class, t.Photo.Image, t.Photo.Bytes)).ToList();
        var byImage = photos.ToDictionary(p => p.Image, p => p.Bytes);
        var settings = new Dictionary<string, string>
        {
            ["data set"] = $"{photos.Count} photos, {n} classes",
            ["test fraction"] = "0.2",
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new ReportInput(metrics, title, settings, counts, samples,
            image => byImage.GetValueOrDefault(image), Published: null, PublishedModelId: null);
    }

    /// <summary>Synthetic flower photos: a class-coloured blossom on a leafy background, with enough jitter that
    /// neighbouring colours get confused.</summary>
    public static List<Photo> SyntheticPhotos(int perClass = 15, int seed = 7)
    {
        var random = new Random(seed);
        (string Name, SKColor Colour)[] classes =
        [
            ("daisy", new SKColor(235, 235, 225)), ("dandelion", new SKColor(240, 200, 40)),
            ("rose", new SKColor(200, 30, 60)), ("sunflower", new SKColor(230, 170, 30)), ("tulip", new SKColor(220, 60, 110)),
        ];
        var photos = new List<Photo>();
        foreach (var (name, colour) in classes)
            for (int i = 0; i < perClass; i++)
                photos.Add(new Photo(name, $"{name}/{name}_{i:D3}.jpg", DrawFlower(random, colour)));
        photos.Add(new Photo("rose", "rose/broken.jpg", [0xFF, 0xD8, 0xFF, 0x00, 0x01, 0x02]));
        return photos;
    }

    /// <summary>Up to <paramref name="perClass"/> photos of each class folder of a real data set.</summary>
    public static List<Photo> FolderPhotos(string root, int perClass) =>
        Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .SelectMany(dir => Directory.GetFiles(dir, "*.jpg").Order(StringComparer.Ordinal).Take(perClass)
                .Select(f => new Photo(Path.GetFileName(dir), $"{Path.GetFileName(dir)}/{Path.GetFileName(f)}", File.ReadAllBytes(f))))
            .ToList();

    private static byte[] DrawFlower(Random random, SKColor colour)
    {
        const int size = 96;
        using var surface = SKSurface.Create(new SKImageInfo(size, size));
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor((byte)random.Next(20, 80), (byte)random.Next(90, 150), (byte)random.Next(20, 70)));
        using var paint = new SKPaint { IsAntialias = true };
        byte Jitter(byte v) => (byte)Math.Clamp(v + random.Next(-45, 46), 0, 255);
        paint.Color = new SKColor(Jitter(colour.Red), Jitter(colour.Green), Jitter(colour.Blue));
        float cx = random.Next(35, 61), cy = random.Next(35, 61), r = random.Next(12, 20);
        for (int petal = 0; petal < 6; petal++)
        {
            double angle = petal * Math.PI / 3;
            canvas.DrawCircle(cx + (float)Math.Cos(angle) * r, cy + (float)Math.Sin(angle) * r, r * 0.8f, paint);
        }
        paint.Color = new SKColor(120, 80, 20);
        canvas.DrawCircle(cx, cy, r * 0.5f, paint);
        using var image = surface.Snapshot();
        using var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, 85);
        return jpeg.ToArray();
    }

    private static float[]? MeanColour(byte[] bytes)
    {
        // SkiaSharp 4's SKBitmap.Decode(byte[]) throws on a non-image; the codec says null instead.
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null) return null;
        using var bitmap = SKBitmap.Decode(codec);
        if (bitmap is null) return null;
        double r = 0, g = 0, b = 0;
        foreach (var pixel in bitmap.Pixels) { r += pixel.Red; g += pixel.Green; b += pixel.Blue; }
        int count = bitmap.Width * bitmap.Height;
        return [(float)(r / count), (float)(g / count), (float)(b / count)];
    }
}
