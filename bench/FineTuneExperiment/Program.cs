// Does fine-tuning ResNet18's last residual stage pay on small photos? The network up to stage 3 stays frozen (float,
// batch normalisation folded, as the product's network is built); its stage-3 activations of every photo and its mirror
// are computed once with ONNX Runtime and cached. Stage 4 starts from the ImageNet weights and is trained with TorchSharp
// on the training side of the product's split (DatasetSplitter), with a softmax layer on top. Test accuracy per seed:
// the frozen features with the product's head, the fine-tuned network's own softmax, and the product's head on stages
// 1-3 frozen + stage 4 fine-tuned.
//   bench/finetune.sh [--dataset DIR] [--size 160] [--seeds 2018,...] [--epochs 4] [--lr 0.003] [--validate]
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Flowers.Acquire;
using Flowers.Featurize;
using Flowers.Split;
using Flowers.Train;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

var dataset = Path.GetFullPath(Arg("--dataset") ?? Path.Combine(RepoRoot(), "..", "shared", "datasets", "flowers128"));
var size = int.Parse(Arg("--size") ?? "160");
var seeds = (Arg("--seeds") ?? "2018").Split(',').Select(int.Parse).ToArray();
var epochs = int.Parse(Arg("--epochs") ?? "4");
var lr = double.Parse(Arg("--lr") ?? "0.003", System.Globalization.CultureInfo.InvariantCulture);
// --validate: hold back a fifth of the training side and score on it instead of the test side (to choose a recipe).
var validate = args.Contains("--validate");
// The product's four stages: the first three stay frozen, the last is fine-tuned.
IReadOnlyList<int> stageChannels = new FeaturizerOptions().StageChannels;
var frozenLength = stageChannels.Sum() - stageChannels[^1];
var ds = DatasetFolder.Scan(dataset);
var network = Network.Load();
var cache = Path.Combine(RepoRoot(), ".cache", "finetune");
var photos = Activations.Load(ds, network, size, cache);
// ONNX Runtime under Debian 13's loader crashes (bench/finetune.sh), so the activations are made in a run of their own.
if (args.Contains("--activations-only")) return;
torch.set_num_threads(2);
Console.WriteLine($"# {photos.Count} photos of {Path.GetFileName(dataset)} at {size} px, stage 3 {network.Stage3Shape(size)}, " +
    $"{epochs} epochs, lr {lr}, {(validate ? "validation fifth of the training side" : "test side")}, CPU: {CpuKernels.Model()}, {CpuKernels.Describe()}");
Console.WriteLine($"# frozen stage 4 in TorchSharp vs ONNX Runtime, largest difference of a pooled feature: {network.Check(photos.Values.Take(8).ToList(), size, frozenLength):0.0e0}");
Console.WriteLine("\n| seed | frozen, product head | fine-tuned softmax | stages 1-3 frozen + 4 fine-tuned, product head | train s |\n|---|---|---|---|---|");
var rows = new List<double[]>();
var byKey = ds.Photos.ToDictionary(p => $"{p.Class}/{p.Name}", p => p.ContentHash);
foreach (var seed in seeds)
{
    var manifest = DatasetSplitter.Split(ds, new SplitOptions(Seed: seed));
    // The photos of one side of the split that have activations (a photo the decoder rejected has none).
    List<(string Class, PhotoActivations Photo)> Side(SplitSide side) =>
        manifest.Entries.Where(e => e.Side == side && photos.ContainsKey(byKey[$"{e.Class}/{e.Name}"]))
            .Select(e => (e.Class, photos[byKey[$"{e.Class}/{e.Name}"]])).ToList();
    var train = Side(SplitSide.Train);
    var test = Side(SplitSide.Test);
    if (validate)
    {
        var held = train.Select((t, i) => (t, i)).GroupBy(x => x.t.Class).SelectMany(g => g.OrderBy(x => Hash(seed, x.t.Photo.Key)).Take(g.Count() / 5)).Select(x => x.i).ToHashSet();
        test = train.Where((_, i) => held.Contains(i)).ToList();
        train = train.Where((_, i) => !held.Contains(i)).ToList();
    }
    var classes = manifest.Classes;
    var frozen = ProductHead(classes, train.Select(t => (t.Class, t.Photo.Features)).ToList(), test.Select(t => (t.Class, t.Photo.Features)).ToList());
    var sw = Stopwatch.StartNew();
    using var stage = network.LastStage(classes.Count);
    FineTune(stage, train.Select(t => (classes.ToList().IndexOf(t.Class), t.Photo)).ToList(), seed);
    var seconds = sw.Elapsed.TotalSeconds;
    var own = (double)test.Count(t => classes[ArgMax(stage.Probabilities(t.Photo.Stage3, size))] == t.Class) / test.Count;
    PhotoFeatures Tuned(PhotoActivations p) => new(p.Features.Views.Select((v, i) => v[..frozenLength].Concat(stage.Pooled(p.Stage3[i], size)).ToArray()).ToArray());
    var tuned = ProductHead(classes, train.Select(t => (t.Class, Tuned(t.Photo))).ToList(), test.Select(t => (t.Class, Tuned(t.Photo))).ToList());
    rows.Add([frozen, own, tuned]);
    Console.WriteLine($"| {seed} | {frozen:0.0000} | {own:0.0000} | {tuned:0.0000} | {seconds:0} |");
}
if (rows.Count > 1) Console.WriteLine($"| mean | {rows.Average(r => r[0]):0.0000} | {rows.Average(r => r[1]):0.0000} | {rows.Average(r => r[2]):0.0000} | |");

void FineTune(LastStage stage, List<(int Label, PhotoActivations Photo)> train, int seed)
{
    // The softmax layer first, on the frozen stage's pooled features (so the stage's first steps follow a trained
    // head, not a random one), then the stage and the layer together: SGD with momentum, a cosine-decayed rate, one
    // randomly chosen view (the photo or its mirror) of every photo an epoch.
    torch.manual_seed(seed);
    var random = new Random(seed);
    stage.FitHead(train.Select(t => (t.Label, t.Photo.Features.Views.Select(v => v[frozenLength..]).ToArray())).ToList());
    using var optimizer = optim.SGD(stage.parameters(), lr, momentum: 0.9, weight_decay: 1e-4);
    const int batch = 32;
    var steps = epochs * ((train.Count + batch - 1) / batch);
    var step = 0;
    var perPhoto = train[0].Photo.Stage3[0].Length;
    stage.train();
    for (var epoch = 0; epoch < epochs; epoch++)
    {
        var order = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).ToArray();
        double loss = 0;
        for (var start = 0; start < order.Length; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            var n = Math.Min(batch, order.Length - start);
            var input = new float[n * perPhoto];
            var labels = new long[n];
            for (var i = 0; i < n; i++)
            {
                var (label, photo) = train[order[start + i]];
                photo.Stage3[random.Next(photo.Stage3.Length)].CopyTo(input, i * perPhoto);
                labels[i] = label;
            }
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr * 0.5 * (1 + Math.Cos(Math.PI * step / steps));
            optimizer.zero_grad();
            var output = torch.nn.functional.cross_entropy(stage.forward(stage.Shape(input, n, size)), torch.tensor(labels));
            output.backward();
            // Without a cap on the gradient's norm the loss went to NaN in the first epoch at this rate.
            torch.nn.utils.clip_grad_norm_(stage.parameters(), 5.0);
            optimizer.step();
            loss += output.item<float>() * n;
            step++;
        }
        Console.Error.WriteLine($"seed {seed} epoch {epoch + 1}: loss {loss / train.Count:0.0000}");
    }
    stage.eval();
}

double ProductHead(IReadOnlyList<string> classes, List<(string Class, PhotoFeatures Features)> train, List<(string Class, PhotoFeatures Features)> test)
{
    var labelled = train.Select((t, i) => new LabeledFeatures($"{t.Class}/{i}", t.Class, t.Features)).ToList();
    var (options, choice) = HyperParameterSearch.Resolve(classes, labelled, new TrainerOptions(), stageChannels);
    if (choice is not null) Console.Error.WriteLine($"product head: {choice.Chosen}");
    var classifier = ClassifierTrainer.Train(classes, labelled, options, stageChannels);
    return (double)test.Count(t => classes[ArgMax(classifier.Predict(t.Features))] == t.Class) / test.Count;
}

static int ArgMax(float[] p) => Array.IndexOf(p, p.Max());

static double Hash(int seed, string key) => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/holdout/{key}"))) / (double)ulong.MaxValue;

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

static string RepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "Flowers.sln"))) return d.FullName;
    return Directory.GetCurrentDirectory();
}

/// <summary>A photo's frozen features (both views, <see cref="Network.Dimension"/> each) and its stage-3 activations (both views).</summary>
sealed record PhotoActivations(string Key, PhotoFeatures Features, float[][] Stage3);

/// <summary>The product's float network (batch normalisation folded) with stage 3's end as a second output.</summary>
sealed class Network
{
    public required ModelProto Model { get; init; }
    public required string Stage3End { get; init; }
    public required NodeProto[] Convs { get; init; } // stage 4: first 3x3 (stride 2), its 1x1 shortcut, then 3x3s in pairs
    public required Dictionary<string, TensorProto> Weights { get; init; }

    public static Network Load()
    {
        var model = ResNet18Quantization.FoldBatchNorm(ModelProto.Parser.ParseFrom(ResNet18Model.Load(multiLevel: true, precision: FeaturePrecision.Float32).OnnxBytes));
        var graph = model.Graph;
        // Stage 3 ends where the last stage's two stride-2 convolutions (3x3 and its 1x1 shortcut) read.
        var strided = graph.Node.Where(n => n.OpType == "Conv" && n.Attribute.Any(a => a.Name == "strides" && a.Ints.Contains(2))).ToList();
        var end = strided[^1].Input[0];
        // Everything downstream of it, in the graph's (topological) order.
        var reached = new HashSet<string> { end };
        var convs = new List<NodeProto>();
        foreach (var node in graph.Node.Where(n => n.Input.Any(reached.Contains)))
        {
            foreach (var o in node.Output) reached.Add(o);
            if (node.OpType == "Conv") convs.Add(node);
        }
        var weights = graph.Initializer.ToDictionary(t => t.Name);
        var shortcut = convs.Single(c => c.Input[0] == end && weights[c.Input[1]].Dims[2] == 1);
        var rest = convs.Where(c => c != shortcut).ToList();
        if (convs.Count < 5 || convs.Count % 2 == 0 || rest[0].Input[0] != end)
            throw new InvalidDataException($"stage 4: expected a strided block and identity blocks after {end}, found {convs.Count} convolutions");
        graph.Output.Add(new ValueInfoProto { Name = end, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        return new Network { Model = model, Stage3End = end, Convs = [rest[0], shortcut, .. rest.Skip(1)], Weights = weights };
    }

    /// <summary>The product's multi-level feature layout: channels of stages 1-4, pooled and put side by side.</summary>
    public static readonly IReadOnlyList<int> Stages = new FeaturizerOptions().StageChannels;
    public static int Stage3Channels => Stages[2];
    public static int Stage4Channels => Stages[3];
    public static int Dimension => Stages.Sum();

    public string Stage3Shape(int size) => $"[{Stage3Channels}, {Side(size)}, {Side(size)}]";
    public static int Side(int size) => (size + 15) / 16;

    public LastStage LastStage(int classes) => new(this, classes);

    /// <summary>TorchSharp's frozen stage 4 against ONNX Runtime's pooled stage-4 features of the same photos.</summary>
    /// <param name="frozenLength">Where stage 4's pooled features begin in a view's features.</param>
    public double Check(List<PhotoActivations> sample, int size, int frozenLength)
    {
        using var stage = LastStage(2);
        stage.eval();
        return sample.SelectMany(p => p.Stage3.Select((a, v) => stage.Pooled(a, size).Zip(p.Features.Views[v][frozenLength..], (x, y) => Math.Abs(x - y)).Max())).Max();
    }
}

/// <summary>ResNet18's stage 4 (basic blocks, the first strided) from the ONNX weights, global average pooling and a softmax layer.</summary>
sealed class LastStage : nn.Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Conv2d> convs = new();
    readonly long[][] pads = [];
    readonly TorchSharp.Modules.Linear head;

    public LastStage(Network network, int classes) : base("LastStage")
    {
        foreach (var node in network.Convs)
        {
            var w = network.Weights[node.Input[1]];
            var stride = node.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints[0] ?? 1;
            var conv = nn.Conv2d(w.Dims[1], w.Dims[0], w.Dims[2], stride: stride);
            using (torch.no_grad())
            {
                conv.weight!.copy_(torch.tensor(ResNet18Quantization.Floats(w), [.. w.Dims]));
                conv.bias!.copy_(torch.tensor(ResNet18Quantization.Floats(network.Weights[node.Input[2]])));
            }
            convs.Add(conv);
            // ONNX pads are (top, left, bottom, right); the export pads the strided 3x3 at top and left only.
            var p = node.Attribute.FirstOrDefault(a => a.Name == "pads")?.Ints.ToArray() ?? [0, 0, 0, 0];
            pads = [.. pads, [p[1], p[3], p[0], p[2]]];
        }
        head = nn.Linear(Network.Stage4Channels, classes);
        RegisterComponents();
    }

    Tensor Conv(int i, Tensor x) => convs[i].forward(pads[i].Any(p => p != 0) ? torch.nn.functional.pad(x, pads[i]) : x);

    Tensor Features(Tensor x)
    {
        var relu = torch.nn.functional.relu;
        var y = relu(Conv(2, relu(Conv(0, x))) + Conv(1, x));
        for (var i = 3; i < convs.Count; i += 2) y = relu(Conv(i + 1, relu(Conv(i, y))) + y);
        return y.mean([2, 3]);
    }

    public Tensor Shape(float[] input, int n, int size) => torch.tensor(input, [n, Network.Stage3Channels, Network.Side(size), Network.Side(size)]);

    public override Tensor forward(Tensor x) => head.forward(Features(x));

    public float[] Pooled(float[] stage3, int size)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return Features(Shape(stage3, 1, size)).data<float>().ToArray();
    }

    /// <summary>Mean of the softmax over the views.</summary>
    public float[] Probabilities(float[][] views, int size)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var input = views.SelectMany(v => v).ToArray();
        return torch.nn.functional.softmax(forward(Shape(input, views.Length, size)), 1).mean([0]).data<float>().ToArray();
    }

    /// <summary>The softmax layer alone on the frozen pooled features: 300 full-batch Adam steps.</summary>
    public void FitHead(List<(int Label, float[][] Views)> train)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(train.SelectMany(t => t.Views.SelectMany(v => v)).ToArray(), [train.Sum(t => t.Views.Length), Network.Stage4Channels]);
        var y = torch.tensor(train.SelectMany(t => t.Views.Select(_ => (long)t.Label)).ToArray());
        using var optimizer = optim.Adam(head.parameters(), 0.01, weight_decay: 1e-3);
        for (var i = 0; i < 300; i++)
        {
            using var inner = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = torch.nn.functional.cross_entropy(head.forward(x), y);
            loss.backward();
            optimizer.step();
        }
    }
}

/// <summary>Stage-3 activations of every photo, computed once per network input size and kept in .cache/finetune.</summary>
static class Activations
{
    public static Dictionary<string, PhotoActivations> Load(Dataset ds, Network network, int size, string cacheDir)
    {
        Directory.CreateDirectory(cacheDir);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(",", ds.Photos.Select(p => p.ContentHash)) + $"/{size}")))[..16];
        var file = Path.Combine(cacheDir, $"stage3-{size}-{key}.bin");
        var perView = Network.Stage3Channels * Network.Side(size) * Network.Side(size);
        var result = new Dictionary<string, PhotoActivations>();
        if (File.Exists(file))
        {
            using var r = new BinaryReader(File.OpenRead(file));
            var count = r.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var hash = r.ReadString();
                float[] Read(int n) { var a = new float[n]; r.Read(MemoryMarshal.AsBytes(a.AsSpan())); return a; }
                var features = new PhotoFeatures([Read(Network.Dimension), Read(Network.Dimension)]);
                result[hash] = new PhotoActivations(hash, features, [Read(perView), Read(perView)]);
            }
            return result;
        }
        var sw = Stopwatch.StartNew();
        using var featurizer = PhotoFeaturizer.Create(new FeaturizerOptions { InputSize = size, Precision = FeaturePrecision.Float32 });
        var bytes = network.Model.ToByteArray();
        var sessions = new System.Collections.Concurrent.ConcurrentBag<InferenceSession>(Enumerable.Range(0, 2).Select(_ => new InferenceSession(bytes, PhotoFeaturizer.CreateSessionOptions(1))));
        var done = new System.Collections.Concurrent.ConcurrentDictionary<string, PhotoActivations>();
        Parallel.ForEach(ds.Photos, new ParallelOptions { MaxDegreeOfParallelism = 2 }, p =>
        {
            float[] input;
            try { input = featurizer.Prepare(featurizer.Decoder.Decode(File.ReadAllBytes(p.FilePath))); }
            catch (PhotoRejectedException ex) { Console.Error.WriteLine($"{p.FilePath}: {ex.Message}"); return; }
            sessions.TryTake(out var session);
            try
            {
                using var tensor = OrtValue.CreateTensorValueFromMemory(input, [2, 3, size, size]);
                using var outputs = session!.Run(new RunOptions(), [ResNet18Model.InputName], [tensor], [ResNet18Model.OutputName, network.Stage3End]);
                var f = outputs[0].GetTensorDataAsSpan<float>();
                var a = outputs[1].GetTensorDataAsSpan<float>();
                done[p.ContentHash] = new PhotoActivations(p.ContentHash, new PhotoFeatures([f[..Network.Dimension].ToArray(), f[Network.Dimension..].ToArray()]),
                    [a[..perView].ToArray(), a[perView..].ToArray()]);
            }
            finally { sessions.Add(session!); }
        });
        foreach (var s in sessions) s.Dispose();
        Console.Error.WriteLine($"stage-3 activations of {done.Count} photos in {sw.Elapsed.TotalSeconds:0} s");
        using (var w = new BinaryWriter(File.Create(file + ".tmp")))
        {
            w.Write(done.Count);
            foreach (var p in done.Values)
            {
                w.Write(p.Key);
                foreach (var v in p.Features.Views) w.Write(MemoryMarshal.AsBytes(v.AsSpan()));
                foreach (var v in p.Stage3) w.Write(MemoryMarshal.AsBytes(v.AsSpan()));
            }
        }
        File.Move(file + ".tmp", file, overwrite: true);
        return new Dictionary<string, PhotoActivations>(done);
    }
}
