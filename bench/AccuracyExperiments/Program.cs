// Accuracy experiments on a class-per-folder photo set (default ../shared/datasets/flowers128): featurizes every
// photo once per featurizer (cached on disk by content hash), splits 80/20 per class by hash of
// (seed 2018, class, file name), trains ML.NET L-BFGS maximum entropy and prints test accuracies as a table.
//   dotnet run -c Release --project bench/AccuracyExperiments -- [--dataset DIR] [--cache DIR] [--stage NAME]...
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Flowers.Featurize;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

var dataset = Path.GetFullPath(Arg("--dataset") ?? Path.Combine(RepoRoot(), "..", "shared", "datasets", "flowers128"));
var cacheDir = Arg("--cache") ?? Path.Combine(RepoRoot(), ".cache", "features");
var stages = args.Where((a, i) => i > 0 && args[i - 1] == "--stage").ToHashSet();
bool Run(string stage) => stages.Count == 0 || stages.Contains(stage);

var photos = Directory.GetDirectories(dataset).Order(StringComparer.Ordinal)
    .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Select(f => (Class: Path.GetFileName(d), Path: f)))
    .ToList();
// --seeds 2018,2019,...: average every accuracy over several splits (one split's test set of ~860 photos has a
// standard error of about 1.5 points, more than most differences measured here).
var seeds = Arg("--seeds")?.Split(',').Select(int.Parse).ToArray() ?? [2018];
var tests = seeds.Select(seed => photos.GroupBy(p => p.Class)
    .SelectMany(g => g.OrderBy(p => SplitHash(seed, g.Key, Path.GetFileName(p.Path))).Take((int)Math.Round(g.Count() * 0.2)))
    .Select(p => p.Path).ToHashSet()).ToList();
// Every photo's SHA-256 (the feature cache's key), read once however many featurizers a run asks for.
var contentHashes = new Lazy<Dictionary<string, string>>(() => photos.ToDictionary(p => p.Path, p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p.Path)))));
Console.WriteLine($"# {photos.Count} photos, {tests[0].Count} test, split seed(s) {string.Join(",", seeds)}, dataset {dataset}");

if (Run("features"))
{
    Console.WriteLine("\n| features | normalisation | L2=1 | L2=3 | L2=10 | L2=30 |\n|---|---|---|---|---|---|");
    var f224 = Featurize(new FeaturizerOptions { InputSize = 224 });
    foreach (var dims in new[] { 512, 960 })
        foreach (var norm in new[] { "none", "L2-normalise", "min-max", "mean-variance" })
            Console.WriteLine($"| {dims} | {norm} | " + string.Join(" | ", new[] { 1f, 3f, 10f, 30f }
                .Select(l2 => $"{Evaluate(f224, dims, norm, l2, trainMirror: false, testMirror: false):0.0000}")) + " |");
}
if (Run("mirror"))
{
    Console.WriteLine("\n| features | mirrored view | L2=1 | L2=3 | L2=10 | L2=30 |\n|---|---|---|---|---|---|");
    var f224 = Featurize(new FeaturizerOptions { InputSize = 224 });
    foreach (var dims in new[] { 512, 960 })
        foreach (var (train, testAvg, name) in new[] { (false, false, "none"), (true, false, "train augmentation"), (false, true, "test averaging"), (true, true, "both") })
            Console.WriteLine($"| {dims} | {name} | " + string.Join(" | ", new[] { 1f, 3f, 10f, 30f }
                .Select(l2 => $"{Evaluate(f224, dims, "none", l2, train, testAvg):0.0000}")) + " |");
}
if (Run("size"))
{
    Console.WriteLine("\n| input | mean | inference img/s (1 view) | 960, no mirror, L2=10 | 960 + mean-variance + mirror both, L2=100 |\n|---|---|---|---|---|");
    foreach (var (size, perPixel) in new[] { (224, true), (160, true), (160, false), (128, true), (128, false) })
    {
        var f = Featurize(new FeaturizerOptions { InputSize = size, PerPixelMean = perPixel });
        Console.WriteLine($"| {size} | {(perPixel ? "per-pixel" : "channel")} | {Speed(size):0.0} | {Evaluate(f, 960, "none", 10, false, false):0.0000} | {Evaluate(f, 960, "mean-variance", 100, true, true):0.0000} |");
    }
}

if (Run("regularisation"))
{
    Console.WriteLine("\n| features | normalisation | mirrored view | L1 | L2=10 | L2=30 | L2=100 | L2=300 |\n|---|---|---|---|---|---|---|---|");
    var f224 = Featurize(new FeaturizerOptions { InputSize = 224 });
    foreach (var (dims, norm, mirror, l1) in new[] { (960, "none", true, 1f), (960, "mean-variance", true, 1f), (960, "min-max", true, 1f), (960, "none", true, 0f), (512, "none", true, 1f), (960, "none", false, 1f) })
        Console.WriteLine($"| {dims} | {norm} | {(mirror ? "both" : "none")} | {l1} | " + string.Join(" | ", new[] { 10f, 30f, 100f, 300f }
            .Select(l2 => $"{Evaluate(f224, dims, norm, l2, mirror, mirror, l1):0.0000}")) + " |");
}

if (Run("final"))
{
    Console.WriteLine("\n| features | normalisation | mirrored view | L2 | accuracy |\n|---|---|---|---|---|");
    var f224 = Featurize(new FeaturizerOptions { InputSize = 224 });
    foreach (var (dims, norm, train, testAvg, l2) in new[]
    {
        (512, "none", false, false, 10f), (960, "none", false, false, 10f), (960, "none", true, true, 10f),
        (960, "none", true, true, 100f), (960, "none", true, true, 300f), (960, "none", false, true, 100f),
        (960, "mean-variance", false, false, 100f), (960, "mean-variance", true, true, 100f), (960, "mean-variance", true, true, 300f),
        (512, "mean-variance", true, true, 100f),
    })
        Console.WriteLine($"| {dims} | {norm} | {(train, testAvg) switch { (true, true) => "both", (false, true) => "test averaging", (true, false) => "train augmentation", _ => "none" }} | {l2} | {Evaluate(f224, dims, norm, l2, train, testAvg):0.0000} |");
}

if (Run("calibrate"))
{
    // The activation ranges the 8-bit network ships with: 256 training-side photos (never a test photo of seed 2018),
    // one view each, stretched to 224 px and at their own 128 px (sharper, as full-size photos are at 224), the wider
    // range of the two per tensor. Writes src/Core/Featurize/resnet18-activation-ranges.json.
    var chosen = photos.Where(p => !tests[0].Contains(p.Path)).OrderBy(p => SplitHash(0, p.Class, Path.GetFileName(p.Path))).Take(256).ToList();
    ActivationRanges At(int size)
    {
        using var f = PhotoFeaturizer.Create(new FeaturizerOptions { Precision = FeaturePrecision.Float32, MirroredView = false, InputSize = size });
        return ActivationRanges.Measure(chosen.Select(p => f.Prepare(f.Decoder.Decode(File.ReadAllBytes(p.Path)))), size,
            $"{chosen.Count} photos of {Path.GetFileName(dataset)} (training side of split seed 2018), one view, {size} px");
    }
    var ranges = At(224).Widen(At(128));
    var target = Path.Combine(RepoRoot(), "src", "Core", "Featurize", "resnet18-activation-ranges.json");
    using (var file = File.Create(target)) ranges.Save(file);
    Console.WriteLine($"wrote {target}: {ranges.Ranges.Count} tensors");
}

if (Run("int8"))
{
    // The product's features in 8 bits against 32: accuracy with the product's trainer settings, per split seed.
    var defaults = new Flowers.Train.TrainerOptions { L2 = 100 };
    Console.WriteLine($"\n| precision | 960, no mirror, L2=10 | earlier product default (960, mirror both, L2={defaults.L2}) |\n|---|---|---|");
    foreach (var precision in new[] { FeaturePrecision.Float32, FeaturePrecision.Int8 })
    {
        var f = Featurize(new FeaturizerOptions { Precision = precision });
        Console.WriteLine($"| {precision} | {Evaluate(f, 960, "none", 10, false, false):0.0000} | {Evaluate(f, 960, "none", defaults.L2.Value, true, true):0.0000} |");
    }
}

if (Run("fullres"))
{
    // Input size x feature normalisation x L2 on the product's own split (DatasetSplitter), mean over --seeds and the
    // first seed alone; rough featurize CPU ms per photo (decode + all views) from the process's CPU time.
    var sizes = (Arg("--sizes") ?? "224,256,288").Split(',').Select(int.Parse).ToArray();
    var norms = (Arg("--norms") ?? "none,stage-l2,sqrt-stage-l2").Split(',');
    var l2s = (Arg("--l2s") ?? "0.1,0.3,1,3,10,30,100").Split(',').Select(float.Parse).ToArray();
    var dataset2 = Flowers.Acquire.DatasetFolder.Scan(dataset);
    var manifests = seeds.Select(seed => Flowers.Split.DatasetSplitter.Split(dataset2, new Flowers.Split.SplitOptions(Seed: seed))).ToList();
    Console.WriteLine($"\n| input | normalisation | " + string.Join(" | ", l2s.Select(l => $"L2={l}")) + " |\n|---|---|" + string.Concat(l2s.Select(_ => "---|")));
    foreach (var size in sizes)
    {
        var (f, ms) = FeaturizeTimed(new FeaturizerOptions { InputSize = size });
        Console.WriteLine($"| {size} ({ms:0.0} ms) | | |");
        foreach (var norm in norms)
            Console.WriteLine($"| {size} | {norm} | " + string.Join(" | ", l2s.Select(l2 =>
            {
                var accs = manifests.Select(m => EvaluateManifest(m, dataset2, f, norm, l2)).ToArray();
                return $"{accs.Average():0.0000} ({accs[0]:0.0000})";
            })) + " |");
    }
}

if (Run("beyond"))
{
    // Past the product's defaults on small photos: features of two input sizes side by side (each its own four
    // stages), and LightGbm instead of the linear head; mean over --seeds and the first seed alone.
    var dataset2 = Flowers.Acquire.DatasetFolder.Scan(dataset);
    var manifests = seeds.Select(seed => Flowers.Split.DatasetSplitter.Split(dataset2, new Flowers.Split.SplitOptions(Seed: seed))).ToList();
    var stage4 = new FeaturizerOptions().StageChannels;
    var bySize = (Arg("--sizes") ?? "128,160,192,224").Split(',').Select(int.Parse).ToDictionary(s => s, s => Featurize(new FeaturizerOptions { InputSize = s }));
    Dictionary<string, PhotoFeatures> Concat(params int[] sizes) => bySize[sizes[0]].Keys.Where(k => sizes.All(s => bySize[s].ContainsKey(k)))
        .ToDictionary(k => k, k => new PhotoFeatures(Enumerable.Range(0, bySize[sizes[0]][k].Views.Length)
            .Select(v => sizes.SelectMany(s => bySize[s][k].Views[v]).ToArray()).ToArray()));
    string Row(string name, Func<Flowers.Split.SplitManifest, double> f)
    {
        var accs = manifests.Select(f).ToArray();
        return $"| {name} | {accs.Average():0.0000} ({accs[0]:0.0000}) | {string.Join(" ", accs.Select(a => a.ToString("0.0000")))} |";
    }
    Console.WriteLine("\n| variant | mean (first seed) | per seed |\n|---|---|---|");
    foreach (var size in bySize.Keys.Where(_ => Arg("--lightgbm") is null))
        Console.WriteLine(Row($"{size} px, product head", m => EvaluateWith(m, dataset2, bySize[size], new Flowers.Train.TrainerOptions(), stage4)));
    foreach (var pair in (Arg("--pairs") ?? "128+192,160+224,128+224").Split(',').Where(p => p != "none"))
    {
        var sizes = pair.Split('+').Select(int.Parse).ToArray();
        var f = Concat(sizes);
        Console.WriteLine(Row($"{pair} px side by side, product head", m => EvaluateWith(m, dataset2, f, new Flowers.Train.TrainerOptions(), [.. sizes.SelectMany(_ => stage4)])));
    }
    if (Arg("--lightgbm") is not null)
        Console.WriteLine(Row($"160 px, LightGbm", m => EvaluateWith(m, dataset2, bySize[160], new Flowers.Train.TrainerOptions { Trainer = Flowers.Train.TrainerOptions.LightGbm }, stage4)));
}

if (Run("crops"))
{
    // Crops of the photo as extra training rows (the issue's "crops and mirror views"): the photo decoded at --zoom px
    // and cut into --size px squares at its four corners (two of them mirrored) and its centre. Test photos are
    // scored on the product's two views unless said ("all views" = test-time averaging over the crops too).
    var size = int.Parse(Arg("--size") ?? "160");
    var zooms = (Arg("--zooms") ?? "192").Split(',').Select(int.Parse).ToArray();
    var dataset2 = Flowers.Acquire.DatasetFolder.Scan(dataset);
    var manifests = seeds.Select(seed => Flowers.Split.DatasetSplitter.Split(dataset2, new Flowers.Split.SplitOptions(Seed: seed))).ToList();
    var stage4 = new FeaturizerOptions().StageChannels;
    var basic = Featurize(new FeaturizerOptions { InputSize = size });
    string Row(string name, Func<Flowers.Split.SplitManifest, double> f)
    {
        var accs = manifests.Select(f).ToArray();
        return $"| {name} | {accs.Average():0.0000} ({accs[0]:0.0000}) | {string.Join(" ", accs.Select(a => a.ToString("0.0000")))} |";
    }
    Console.WriteLine("\n| variant | mean (first seed) | per seed |\n|---|---|---|");
    Console.WriteLine(Row($"{size} px, 2 views (the product)", m => EvaluateWith(m, dataset2, basic, new Flowers.Train.TrainerOptions(), stage4)));
    foreach (var zoom in zooms)
    {
        var crops = FeaturizeCrops(size, zoom);
        Dictionary<string, PhotoFeatures> With(int[] pick) => basic.Keys.Where(crops.ContainsKey)
            .ToDictionary(k => k, k => new PhotoFeatures([.. basic[k].Views, .. pick.Select(i => crops[k].Views[i])]));
        foreach (var (name, pick) in new (string, int[])[] { ("4 corners", [0, 1, 2, 3]), ("centre", [4]), ("4 corners + centre", [0, 1, 2, 3, 4]) })
        {
            var train = With(pick);
            Console.WriteLine(Row($"+ {name} from {zoom} px, training rows", m => EvaluateWith(m, dataset2, train, new Flowers.Train.TrainerOptions(), stage4, basic)));
            Console.WriteLine(Row($"+ {name} from {zoom} px, training rows and test averaging", m => EvaluateWith(m, dataset2, train, new Flowers.Train.TrainerOptions(), stage4)));
        }
    }
}

Dictionary<string, PhotoFeatures> FeaturizeCrops(int size, int zoom)
{
    var options = new FeaturizerOptions { InputSize = size, MirroredView = false };
    var (e, c) = (zoom - size, (zoom - size) / 2);
    (int X, int Y, bool Mirror)[] cuts = [(0, 0, false), (e, 0, true), (0, e, true), (e, e, false), (c, c, false)];
    return Cached($"{options.Id}-crops{cuts.Length}-from{zoom}", $"{cuts.Length} crops ({size} of {zoom} px)", missing =>
    {
        using var featurizer = PhotoFeaturizer.Create(options);
        var decoder = new PhotoDecoder(zoom);
        var done = new System.Collections.Concurrent.ConcurrentBag<FeaturizeOutcome>();
        Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = 2 }, p =>
        {
            try
            {
                var big = decoder.Decode(File.ReadAllBytes(p.Path));
                done.Add(new FeaturizeOutcome(p.Path, new PhotoFeatures(cuts.Select(cut =>
                {
                    var rgba = new byte[4 * size * size];
                    for (var y = 0; y < size; y++)
                        for (var x = 0; x < size; x++)
                        {
                            var sx = cut.X + (cut.Mirror ? size - 1 - x : x);
                            Array.Copy(big.Rgba, 4 * ((cut.Y + y) * zoom + sx), rgba, 4 * (y * size + x), 4);
                        }
                    return featurizer.Featurize(new PhotoPixels(size, rgba, big.SourceWidth, big.SourceHeight, big.Format)).Views[0];
                }).ToArray()), null));
            }
            catch (PhotoRejectedException ex) { done.Add(new FeaturizeOutcome(p.Path, null, ex.Message)); }
        });
        return done;
    });
}

double EvaluateWith(Flowers.Split.SplitManifest manifest, Flowers.Acquire.Dataset ds, Dictionary<string, PhotoFeatures> features, Flowers.Train.TrainerOptions options, IReadOnlyList<int> stages, Dictionary<string, PhotoFeatures>? testFeatures = null)
{
    var byName = ds.Photos.ToDictionary(p => $"{p.Class}/{p.Name}", p => p.FilePath);
    var train = manifest.Entries.Where(e => e.Side == Flowers.Split.SplitSide.Train && features.ContainsKey(byName[$"{e.Class}/{e.Name}"]))
        .Select(e => new Flowers.Train.LabeledFeatures($"{e.Class}/{e.Name}", e.Class, features[byName[$"{e.Class}/{e.Name}"]])).ToList();
    var test = manifest.Entries.Where(e => e.Side == Flowers.Split.SplitSide.Test && features.ContainsKey(byName[$"{e.Class}/{e.Name}"]))
        .Select(e => (e.Class, Features: (testFeatures ?? features)[byName[$"{e.Class}/{e.Name}"]])).ToList();
    var (resolved, choice) = Flowers.Train.HyperParameterSearch.Resolve(manifest.Classes, train, options, stages);
    if (choice is not null) Console.Error.WriteLine($"seed {manifest.Options.Seed}: chose {choice.Chosen} from " + string.Join(", ", choice.Candidates.Select(c => $"{(c.Normalize ? "std " : "")}{c.L2}: {c.Accuracy:0.0000}/{c.LogLoss:0.000}")));
    var classifier = Flowers.Train.ClassifierTrainer.Train(manifest.Classes, train, resolved, stages);
    var correct = test.Count(t => { var p = classifier.Predict(t.Features); return manifest.Classes[Array.IndexOf(p, p.Max())] == t.Class; });
    return (double)correct / test.Count;
}

(Dictionary<string, PhotoFeatures>, double) FeaturizeTimed(FeaturizerOptions options)
{
    var f = Featurize(options);
    using var featurizer = PhotoFeaturizer.Create(options);
    var sample = photos.Take(10).Concat(photos.Where((_, i) => i % 17 == 0).Take(120)).Select(p => new PhotoBytes(p.Path, File.ReadAllBytes(p.Path))).ToList();
    foreach (var _ in featurizer.FeaturizeAll(sample.Take(10))) { }
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    foreach (var _ in featurizer.FeaturizeAll(sample.Skip(10))) { }
    return (f, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / (sample.Count - 10));
}

double EvaluateManifest(Flowers.Split.SplitManifest manifest, Flowers.Acquire.Dataset ds, Dictionary<string, PhotoFeatures> features, string norm, float l2)
{
    var standardise = norm.EndsWith("+std");
    var baseNorm = standardise ? norm[..^4] : norm;
    // "product": the product's trainer defaults, L2 chosen by its cross-validation; "old": the defaults before it.
    var options = norm switch
    {
        "product" => new Flowers.Train.TrainerOptions(),
        "old" => new Flowers.Train.TrainerOptions { L2 = 100, Normalization = Flowers.Train.FeatureNormalization.None, Normalize = false },
        _ => new Flowers.Train.TrainerOptions { L2 = l2, Normalize = standardise, Normalization = Flowers.Train.FeatureNormalization.None },
    };
    IReadOnlyList<int> stages = norm is "product" or "old" ? new FeaturizerOptions().StageChannels : [features.Values.First().Dimension];
    var normalised = baseNorm is "none" or "product" or "old" ? features
        : features.ToDictionary(f => f.Key, f => new PhotoFeatures(f.Value.Views.Select(v => Normalise(v, baseNorm)).ToArray()));
    return EvaluateWith(manifest, ds, normalised, options, stages);
}

static float[] Normalise(float[] v, string norm)
{
    if (norm is "none" or "product" or "old") return v;
    var r = (float[])v.Clone();
    if (norm.StartsWith("sqrt")) for (var i = 0; i < r.Length; i++) r[i] = MathF.Sign(r[i]) * MathF.Sqrt(MathF.Abs(r[i]));
    if (norm.EndsWith("stage-l2"))
    {
        var start = 0;
        foreach (var n in v.Length == 960 ? new[] { 64, 128, 256, 512 } : v.Length == 1920 ? new[] { 64, 128, 256, 512, 64, 128, 256, 512 } : new[] { v.Length })
        {
            double s = 0; for (var i = start; i < start + n; i++) s += r[i] * r[i];
            var k = (float)(1 / Math.Max(Math.Sqrt(s), 1e-12));
            for (var i = start; i < start + n; i++) r[i] *= k;
            start += n;
        }
    }
    else if (norm.EndsWith("-l2"))
    {
        double s = 0; foreach (var x in r) s += x * x;
        var k = (float)(1 / Math.Max(Math.Sqrt(s), 1e-12));
        for (var i = 0; i < r.Length; i++) r[i] *= k;
    }
    return r;
}

Dictionary<string, PhotoFeatures> Featurize(FeaturizerOptions options) =>
    Cached(options.Id, options.Id, missing =>
    {
        using var featurizer = PhotoFeaturizer.Create(options);
        return featurizer.FeaturizeAll(missing.Select(p => new PhotoBytes(p.Path, File.ReadAllBytes(p.Path)))).ToList();
    });

// Features of every photo under one featurizer id, from .cache/features by content hash; only the photos it lacks
// are featurized, and a photo that fails is reported and left out.
Dictionary<string, PhotoFeatures> Cached(string id, string what, Func<List<(string Class, string Path)>, IEnumerable<FeaturizeOutcome>> featurize)
{
    using var cache = new LocalFeatureCache(cacheDir, id);
    var missing = photos.Where(p => !cache.TryGet(contentHashes.Value[p.Path], out _)).ToList();
    if (missing.Count > 0)
    {
        var sw = Stopwatch.StartNew();
        foreach (var o in featurize(missing))
            if (o.Features is not null) cache.Put(contentHashes.Value[o.Key], o.Features);
            else Console.Error.WriteLine($"{o.Key}: {o.Error}");
        Console.Error.WriteLine($"featurized {missing.Count} photos for {what} in {sw.Elapsed.TotalSeconds:0} s");
        cache.Flush();
    }
    return photos.Where(p => cache.TryGet(contentHashes.Value[p.Path], out _))
        .ToDictionary(p => p.Path, p => { cache.TryGet(contentHashes.Value[p.Path], out var f); return f!; });
}

double Speed(int size)
{
    // Inference only, one view, 200 photos after warm-up: the relative cost of an input size.
    using var f = PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = size, MirroredView = false });
    var inputs = photos.Take(220).Select(p => f.Prepare(f.Decoder.Decode(File.ReadAllBytes(p.Path)))).ToList();
    foreach (var i in inputs.Take(20)) f.Infer(i);
    var sw = Stopwatch.StartNew();
    Parallel.ForEach(inputs.Skip(20), new ParallelOptions { MaxDegreeOfParallelism = f.Options.ConcurrentRuns }, i => f.Infer(i));
    return 200 / sw.Elapsed.TotalSeconds;
}

double Evaluate(Dictionary<string, PhotoFeatures> features, int dims, string norm, float l2, bool trainMirror, bool testMirror, float l1 = 1f) =>
    tests.Average(test => EvaluateSplit(test, features, dims, norm, l2, trainMirror, testMirror, l1));

double EvaluateSplit(HashSet<string> test, Dictionary<string, PhotoFeatures> features, int dims, string norm, float l2, bool trainMirror, bool testMirror, float l1)
{
    var ml = new MLContext(seed: 2018);
    float[] Pick(float[] v) => dims == v.Length ? v : v[^dims..];
    var trainRows = photos.Where(p => !test.Contains(p.Path) && features.ContainsKey(p.Path))
        .SelectMany(p => features[p.Path].Views.Take(trainMirror ? 2 : 1).Select(v => new Row { Label = p.Class, Features = Pick(v) }))
        .ToList();
    var schema = SchemaDefinition.Create(typeof(Row));
    schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dims);
    IEstimator<ITransformer> pipeline = ml.Transforms.Conversion.MapValueToKey("Label");
    pipeline = norm switch
    {
        "L2-normalise" => pipeline.Append(ml.Transforms.NormalizeLpNorm("Features")),
        "min-max" => pipeline.Append(ml.Transforms.NormalizeMinMax("Features")),
        "mean-variance" => pipeline.Append(ml.Transforms.NormalizeMeanVariance("Features")),
        _ => pipeline,
    };
    pipeline = pipeline.Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
        new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = l2, L1Regularization = l1 }));
    var model = pipeline.Fit(ml.Data.LoadFromEnumerable(trainRows, schema));

    var testPhotos = photos.Where(p => test.Contains(p.Path) && features.ContainsKey(p.Path)).ToList();
    var scores = new double[testPhotos.Count][];
    uint[] labels = [];
    for (var view = 0; view < (testMirror ? 2 : 1); view++)
    {
        var rows = testPhotos.Select(p => new Row { Label = p.Class, Features = Pick(features[p.Path].Views[view]) });
        var scored = ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(rows, schema)), false).ToList();
        labels = scored.Select(s => s.Label).ToArray();
        for (var i = 0; i < scored.Count; i++)
        {
            scores[i] ??= new double[scored[i].Score.Length];
            for (var c = 0; c < scored[i].Score.Length; c++) scores[i][c] += scored[i].Score[c];
        }
    }
    var correct = scores.Where((s, i) => Array.IndexOf(s, s.Max()) + 1 == labels[i]).Count();
    return (double)correct / testPhotos.Count;
}

static double SplitHash(int seed, string cls, string name) =>
    BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{cls}/{name}"))) / (double)ulong.MaxValue;

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

static string RepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "Flowers.sln"))) return d.FullName;
    return Directory.GetCurrentDirectory();
}

sealed class Row
{
    public string Label { get; set; } = "";
    public float[] Features { get; set; } = [];
}

sealed class Scored
{
    public uint Label { get; set; }
    public float[] Score { get; set; } = [];
}
