using Flowers.Featurize;
using Flowers.Testing;
using SkiaSharp;

namespace Flowers.Tests.Featurize;

[Collection(FeaturizerCollection.Name)]
public class PhotoFeaturizerTests(FeaturizerFixture fixture)
{
    readonly PhotoFeaturizer _featurizer = fixture.Featurizer;

    static byte[] Jpeg(int variant, int width = 160, int height = 120)
    {
        using var scene = SyntheticPhotos.Scene(width, height, variant);
        return SyntheticPhotos.Encode(scene, SKEncodedImageFormat.Jpeg, 92);
    }

    [Fact]
    public void Features_have_the_promised_shape_and_identity()
    {
        Assert.Equal($"resnet18-ml960-224-flip-int8w7-{ActivationRanges.DefaultHash[..6]}", _featurizer.Id);
        Assert.Equal("resnet18-ml960-224-flip", (_featurizer.Options with { Precision = FeaturePrecision.Float32 }).Id);
        Assert.Equal(960, _featurizer.Dimension);
        var features = _featurizer.Featurize(Jpeg(1));
        Assert.Equal(2, features.Views.Length);
        Assert.All(features.Views, v => Assert.Equal(960, v.Length));
        Assert.All(features.Views, v => Assert.All(v, x => Assert.True(float.IsFinite(x) && x >= 0))); // pooled ReLU outputs
        Assert.True(features.Views[0].Count(x => x > 0) > 300, "most features should be active on a busy picture");
    }

    [Fact]
    public void Same_photo_same_features_other_photo_other_features()
    {
        var a = _featurizer.Featurize(Jpeg(1)).Views[0];
        Assert.Equal(a, _featurizer.Featurize(Jpeg(1)).Views[0]);
        Assert.True(Similarity.Cosine(a, _featurizer.Featurize(Jpeg(5)).Views[0]) < 0.98);
    }

    [Fact]
    public void Second_view_is_the_mirrored_photo()
    {
        var pixels = _featurizer.Decoder.Decode(Jpeg(2));
        var views = _featurizer.Featurize(pixels).Views;
        var mirrored = _featurizer.Featurize(pixels.Mirrored()).Views[0];
        Assert.True(Similarity.Cosine(views[1], mirrored) > 0.99999);
        Assert.True(Similarity.Cosine(views[0], views[1]) < 0.9999, "the mirrored view should differ");
    }

    [Fact]
    public void Exif_rotated_jpeg_gives_the_features_of_the_upright_photo()
    {
        using var upright = SyntheticPhotos.Scene(200, 140, 3);
        using var stored = SyntheticPhotos.RotatedCounterClockwise(upright);
        var storedJpeg = SyntheticPhotos.Encode(stored, SKEncodedImageFormat.Jpeg, 95);

        var expected = _featurizer.Featurize(SyntheticPhotos.Encode(upright, SKEncodedImageFormat.Jpeg, 95)).Views[0];
        var tagged = _featurizer.Featurize(SyntheticPhotos.WithExifOrientation(storedJpeg, 6)).Views[0];
        var ignored = _featurizer.Featurize(storedJpeg).Views[0];

        var withTag = Similarity.Cosine(expected, tagged);
        var withoutTag = Similarity.Cosine(expected, ignored);
        Assert.True(withTag > 0.99, $"cosine to upright {withTag:0.0000}");
        Assert.True(withoutTag < withTag - 0.01, $"rotated photo without the tag should differ more ({withoutTag:0.0000} vs {withTag:0.0000})");
    }

    [Fact]
    public void FeaturizeAll_keeps_order_and_goes_on_past_bad_photos()
    {
        var truncated = Jpeg(4)[..300];
        PhotoBytes[] photos =
        [
            new("a.jpg", Jpeg(1)), new("empty.jpg", Array.Empty<byte>()), new("b.jpg", Jpeg(2)),
            new("notes.txt", "not a photo"u8.ToArray()), new("cut.jpg", truncated), new("c.png", Png(3)),
            new("d.jpg", Jpeg(1)),
        ];
        var outcomes = _featurizer.FeaturizeAll(photos).ToList();

        Assert.Equal(photos.Select(p => p.Key), outcomes.Select(o => o.Key));
        Assert.Equal(["empty file", "not an image (unrecognised format)", "truncated or corrupt JPEG"],
            outcomes.Where(o => !o.Succeeded).Select(o => o.Error));
        Assert.All(outcomes.Where(o => o.Succeeded), o => Assert.Null(o.Error));
        Assert.Equal(4, outcomes.Count(o => o.Succeeded));
        var single = _featurizer.Featurize(Jpeg(2)).Views[0];
        Assert.True(Similarity.Cosine(single, outcomes[2].Features!.Views[0]) > 0.99999);
        Assert.Equal(outcomes[0].Features!.Views[0], outcomes[6].Features!.Views[0]);
    }

    static byte[] Png(int variant)
    {
        using var scene = SyntheticPhotos.Scene(90, 90, variant);
        return SyntheticPhotos.Encode(scene, SKEncodedImageFormat.Png);
    }

    [Fact]
    public void FeaturizeAll_can_be_cancelled()
    {
        using var cts = new CancellationTokenSource();
        var photos = Enumerable.Range(0, 1000).Select(i => new PhotoBytes($"{i}", Jpeg(i % 3, 64, 64)));
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var _ in _featurizer.FeaturizeAll(photos, cts.Token))
                if (++seen == 3) cts.Cancel();
        });
        Assert.InRange(seen, 3, 20);
    }

    [Fact]
    public void FeaturizeAll_passes_on_a_failing_photo_source_after_the_photos_it_gave()
    {
        IEnumerable<PhotoBytes> Source()
        {
            yield return new PhotoBytes("a", Jpeg(1, 64, 64));
            yield return new PhotoBytes("b", Jpeg(2, 64, 64));
            throw new IOException("disk gone");
        }
        var seen = new List<string>();
        var e = Assert.Throws<IOException>(() => { foreach (var o in _featurizer.FeaturizeAll(Source())) seen.Add(o.Key); });
        Assert.Equal("disk gone", e.Message);
        Assert.Equal(["a", "b"], seen);
    }

    [Fact]
    public void FeaturizeAll_stops_when_the_caller_stops_reading()
    {
        var read = 0;
        IEnumerable<PhotoBytes> Endless()
        {
            for (var i = 0; ; i++)
            {
                Interlocked.Increment(ref read);
                yield return new PhotoBytes($"{i}", Jpeg(i % 3, 64, 64));
            }
        }
        Assert.Equal(["0", "1", "2"], _featurizer.FeaturizeAll(Endless()).Take(3).Select(o => o.Key));
        var after = Volatile.Read(ref read);
        Assert.InRange(after, 3, 40); // read ahead a bounded window, then stopped
        Assert.Equal(after, Volatile.Read(ref read));
    }

    [Fact]
    public void A_featurizer_works_before_its_other_sessions_join_and_disposes_while_they_are_built()
    {
        var photo = Jpeg(3);
        var expected = _featurizer.Featurize(photo).Views;
        // Create returns after the first session; the second is still being built while these run.
        using (var fresh = PhotoFeaturizer.Create(_featurizer.Options with { ConcurrentRuns = 2 }))
        {
            Assert.Equal(expected, fresh.Featurize(photo).Views);
            var all = fresh.FeaturizeAll(Enumerable.Range(0, 6).Select(i => new PhotoBytes($"p{i}", photo))).ToList();
            Assert.All(all, o => Assert.Equal(expected, o.Features!.Views));
        }
        var quick = PhotoFeaturizer.Create(_featurizer.Options with { ConcurrentRuns = 3 });
        quick.Dispose();   // must neither hang nor leak the sessions still being built
        quick.Dispose();
    }

    [Fact]
    public void Featurize_throws_the_reason_for_a_bad_photo() =>
        Assert.Equal("empty file", Assert.Throws<PhotoRejectedException>(() => _featurizer.Featurize(ReadOnlySpan<byte>.Empty)).Reason);

    [Fact]
    public void Other_input_sizes_run_through_the_same_network()
    {
        using var small = PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = 128, MultiLevel = false, MirroredView = false });
        Assert.Equal($"resnet18-512-128-int8w7-{ActivationRanges.DefaultHash[..6]}", small.Id);
        Assert.Equal(512, small.Dimension);
        var at128 = small.Featurize(Jpeg(1));
        var at224 = _featurizer.Featurize(Jpeg(1)).Views[0].AsSpan(448);
        Assert.Single(at128.Views);
        // The same picture at another scale: related, not equal.
        var cosine = Similarity.Cosine(at128.Views[0], at224);
        Assert.InRange(cosine, 0.6, 0.9999);
    }

    [SkippableFact]
    public void Real_flowers_cluster_by_class()
    {
        Skip.IfNot(Flowers128.Directory is not null, Flowers128.Missing);
        // Nearest class centroid of 8 photos a class, tested on the next 4 of each: chance is 1 in 5.
        var train = Flowers128.Photos(8);
        var test = Flowers128.Photos(4, skip: 8);
        var features = _featurizer.FeaturizeAll(train.Concat(test).Select(p => new PhotoBytes(p.Path, File.ReadAllBytes(p.Path))))
            .ToDictionary(o => o.Key, o => o.Features?.Views[0] ?? throw new Xunit.Sdk.XunitException($"{o.Key}: {o.Error}"));
        var centroids = train.GroupBy(p => p.Class).ToDictionary(g => g.Key,
            g => Enumerable.Range(0, 960).Select(i => g.Average(p => features[p.Path][i])).Select(x => (float)x).ToArray());
        var correct = test.Count(p => centroids.MaxBy(c => Similarity.Cosine(features[p.Path], c.Value)).Key == p.Class);
        Assert.True(correct >= test.Count / 2, $"{correct} of {test.Count} nearest-centroid guesses right");
    }
}

/// <summary>The optimized-graph cache (<see cref="PhotoFeaturizer.OptimizedGraphPath"/>) changes start-up time, never features.</summary>
[Collection(FeaturizerCollection.Name)]
public class OptimizedGraphCacheTests(FeaturizerFixture fixture)
{
    [SkippableFact]
    public void Featurizers_built_fresh_from_the_cached_graph_and_past_a_corrupt_one_give_the_same_features()
    {
        var options = fixture.Featurizer.Options;
        var path = PhotoFeaturizer.OptimizedGraphPath(ResNet18Model.Load(options.ModelDirectory, options.MultiLevel, options.Precision));
        Skip.If(path is null, "the edited model is not cached on disk here (ResNet18Model.CacheDirectory), so there is no graph cache");
        using var scene = SyntheticPhotos.Scene(160, 120, 3);
        var photo = SyntheticPhotos.Encode(scene, SKEncodedImageFormat.Jpeg, 92);
        var expected = fixture.Featurizer.Featurize(photo).Views;

        Assert.True(File.Exists(path), $"the first _featurizer of the process should have saved {path}");
        using (var fromCache = PhotoFeaturizer.Create(options)) Assert.Equal(expected, fromCache.Featurize(photo).Views);

        File.WriteAllText(path!, "not an onnx graph");
        using (var pastCorrupt = PhotoFeaturizer.Create(options)) Assert.Equal(expected, pastCorrupt.Featurize(photo).Views);
        Assert.True(new FileInfo(path!).Length > 1_000_000, "the corrupt graph should have been replaced by a good one");
        using (var again = PhotoFeaturizer.Create(options)) Assert.Equal(expected, again.Featurize(photo).Views);
    }
}
