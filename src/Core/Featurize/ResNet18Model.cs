using System.Collections.Concurrent;
using Google.Protobuf;
using Onnx;

namespace Flowers.Featurize;

/// <summary>
/// The ImageNet ResNet18 that NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 ships (a CNTK export,
/// fixed input 1x3x224x224, fixed 7x7 average pool), edited once per process so that it
/// <list type="bullet">
/// <item>takes any batch size and any input height/width (dynamic N, H, W),</item>
/// <item>pools globally instead of over a fixed 7x7 window, and</item>
/// <item>optionally also pools the outputs of the three earlier residual stages (multi-level: 64+128+256+512
/// = 960 features), which costs nothing at run time and classifies better than the last stage alone.</item>
/// </list>
/// Output <see cref="OutputName"/> is [N, Dimension]; its last 512 values are the network's usual features.
/// </summary>
public sealed class ResNet18Model
{
    public const string InputName = "Input247";
    public const string OutputName = "Features";
    const string FinalPoolOp = "AveragePool";

    static readonly ConcurrentDictionary<(string, bool, FeaturePrecision), Lazy<ResNet18Model>> Loaded = new();

    /// <summary>The edited model, ready for an ONNX Runtime session. Read from the cache when first asked for: a process
    /// whose sessions load the cached optimized graph never holds these 61 MB.</summary>
    public byte[] OnnxBytes => _onnxBytes.Value;
    readonly Lazy<byte[]> _onnxBytes;
    /// <summary>Channels of each pooled stage, earliest first (one entry unless multi-level).</summary>
    public IReadOnlyList<int> StageChannels { get; }
    public int Dimension => StageChannels.Sum();
    public bool MultiLevel => StageChannels.Count > 1;
    public FeaturePrecision Precision { get; }

    /// <summary>Where the edited model sits in <see cref="CacheDirectory"/> (without extension); null when it is not kept there.</summary>
    public string? CachePath { get; }

    ResNet18Model(Lazy<byte[]> onnxBytes, IReadOnlyList<int> stageChannels, FeaturePrecision precision, string? cachePath = null) =>
        (_onnxBytes, StageChannels, Precision, CachePath) = (onnxBytes, stageChannels, precision, cachePath);

    ResNet18Model(byte[] onnxBytes, IReadOnlyList<int> stageChannels, FeaturePrecision precision, string? cachePath = null)
        : this(new Lazy<byte[]>(onnxBytes), stageChannels, precision, cachePath) { }

    /// <summary>DnnImageModels/ beside the application, where the NuGet package copies its models
    /// (or <see cref="DirectoryVariable"/>, to share one folder between applications).</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    public const string DirectoryVariable = "FLOWERS_NETWORK_DIR";

    /// <summary>Beside the network: edited models made when the application was published (<see cref="Prepare"/>).</summary>
    public const string PreparedFolder = "prepared";

    /// <summary>The argument with which a published app runs <see cref="Prepare"/> on its own network folder.</summary>
    public const string PrepareCommand = "prepare-network";

    public static string OnnxPath(string modelDirectory) => Path.Combine(modelDirectory, "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>
    /// Where edited models are kept between processes (parsing and editing 64 MB of protobuf is about half of a
    /// cold start); null = edit in every process. Defaults to flowers-models/ in the temp folder.
    /// </summary>
    public static string? CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "flowers-models");

    /// <summary>Bump when <see cref="Edit"/> changes, so that no stale edited model is picked up from the cache.</summary>
    const int EditVersion = 2;

    /// <summary>
    /// Loads and edits the model (and quantizes it, for <see cref="FeaturePrecision.Int8"/>); the edited bytes are kept
    /// for the life of the process (and in <see cref="CacheDirectory"/>).
    /// </summary>
    public static ResNet18Model Load(string? modelDirectory = null, bool multiLevel = true, FeaturePrecision precision = FeaturePrecision.Int8)
    {
        var path = Path.GetFullPath(OnnxPath(modelDirectory ?? DefaultDirectory));
        return Loaded.GetOrAdd((path, multiLevel, precision),
            key => new Lazy<ResNet18Model>(() => LoadOrEdit(key.Item1, key.Item2, key.Item3))).Value;
    }

    static ResNet18Model LoadOrEdit(string path, bool multiLevel, FeaturePrecision precision)
    {
        var source = new FileInfo(path);
        // A published app carries its edited model: a new instance's cold start skips parsing and editing 61 MB,
        // and the Azure package can leave the 61 MB original out. The optimized graph depends on the CPU, so it is
        // still kept in the cache folder.
        var prepared = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(path))!, PreparedFolder, VariantName(multiLevel, precision));
        if (TryReadPrepared(prepared) is { } p && (!source.Exists || source.Length == p.SourceLength))
        {
            var graphCache = CacheDirectory is { } cacheDir && TryCreateDirectory(cacheDir)
                ? Path.Combine(cacheDir, $"{VariantName(multiLevel, precision)}-{p.SourceLength}-prepared") : null;
            return new ResNet18Model(new Lazy<byte[]>(() => File.ReadAllBytes(prepared + ".onnx")), p.Channels, precision, graphCache);
        }
        if (!source.Exists)
            throw new FileNotFoundException(
                $"ResNet18 model not found at {path}, nor a prepared {VariantName(multiLevel, precision)} beside it: reference NuGet package "
                + "Microsoft.ML.DnnImageFeaturizer.ResNet18, which copies it beside the app (a published Functions app carries only the "
                + "product's default network unless published with -p:PackageFullNetwork=true)", path);
        var cached = CacheDirectory is { } dir ? Path.Combine(dir, $"{VariantName(multiLevel, precision)}-{source.Length}-{source.LastWriteTimeUtc.Ticks}") : null;
        if (cached is not null && TryReadChannels(cached) is { } channels)
        {
            // Should the cached file go missing before the bytes are needed, the model is edited afresh.
            var file = cached + ".onnx";
            return new ResNet18Model(new Lazy<byte[]>(() => File.Exists(file) ? File.ReadAllBytes(file) : Edit(path, multiLevel, precision).OnnxBytes),
                channels, precision, cached);
        }
        var edited = Edit(path, multiLevel, precision);
        return cached is not null && TrySave(cached, edited) ? new ResNet18Model(edited.OnnxBytes, edited.StageChannels, precision, cached) : edited;
    }

    /// <summary>
    /// Writes the edited model of the product's defaults (multi-level, int8) made from the network in
    /// <paramref name="modelDirectory"/> into <see cref="PreparedFolder"/> of <paramref name="targetDirectory"/> (default:
    /// the same folder); run when the Functions app is published. Returns the file written.
    /// </summary>
    public static string Prepare(string modelDirectory, string? targetDirectory = null, bool multiLevel = true, FeaturePrecision precision = FeaturePrecision.Int8)
    {
        var path = Path.GetFullPath(OnnxPath(modelDirectory));
        if (!File.Exists(path)) throw new FileNotFoundException($"ResNet18 model not found at {path}", path);
        var prepared = Path.Combine(Path.GetFullPath(targetDirectory ?? modelDirectory), PreparedFolder, VariantName(multiLevel, precision));
        if (!TrySave(prepared, Edit(path, multiLevel, precision))) throw new IOException($"cannot write {prepared}.onnx");
        File.WriteAllText(prepared + ".source", new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return prepared + ".onnx";
    }

    /// <summary>Names an edited model by everything its bytes depend on but the network file itself.</summary>
    static string VariantName(bool multiLevel, FeaturePrecision precision) =>
        $"resnet18-{(multiLevel ? "multilevel" : "last")}-e{EditVersion}" + (precision == FeaturePrecision.Int8 ? $"-int8-{ActivationRanges.DefaultHash}" : "");

    /// <summary>The stage channels of a complete edited model at <paramref name="stem"/>, or null when there is none.</summary>
    static List<int>? TryReadChannels(string stem)
    {
        if (!File.Exists(stem + ".onnx") || !File.Exists(stem + ".channels")) return null;
        try { return File.ReadAllText(stem + ".channels").Split(',').Select(int.Parse).ToList(); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; } // edit afresh
    }

    /// <summary>A prepared model and the length of the network it was made from (its .source record).</summary>
    static (List<int> Channels, long SourceLength)? TryReadPrepared(string stem)
    {
        if (TryReadChannels(stem) is not { } channels || !File.Exists(stem + ".source")) return null;
        try { return (channels, long.Parse(File.ReadAllText(stem + ".source"), System.Globalization.CultureInfo.InvariantCulture)); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; }
    }

    static bool TryCreateDirectory(string dir)
    {
        try { Directory.CreateDirectory(dir); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static bool TrySave(string cached, ResNet18Model model)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
            var temp = $"{cached}.{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(temp, model.OnnxBytes);
            File.Move(temp, cached + ".onnx", overwrite: true);
            File.WriteAllText(temp, string.Join(",", model.StageChannels)); // written last: marks the model complete
            File.Move(temp, cached + ".channels", overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; } // a cache, not a requirement
    }

    static ResNet18Model Edit(string path, bool multiLevel, FeaturePrecision precision)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var graph = model.Graph;

        // Fixed shapes recorded for every intermediate tensor would contradict dynamic H/W: let ORT infer them.
        graph.ValueInfo.Clear();
        var input = graph.Input.Single(i => i.Name == InputName);
        var dims = input.Type.TensorType.Shape.Dim;
        dims[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        dims[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
        dims[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };

        var finalPool = graph.Node.Single(n => n.OpType == FinalPoolOp);
        var stageEnds = multiLevel ? EarlierStageEnds(graph) : [];
        stageEnds.Add(finalPool.Input[0]);
        graph.Node.Remove(finalPool);

        var pooled = new List<string>();
        foreach (var stage in stageEnds)
        {
            var name = $"{stage}_GlobalPool";
            graph.Node.Add(new NodeProto { OpType = "GlobalAveragePool", Name = name, Input = { stage }, Output = { name } });
            pooled.Add(name);
        }
        var joined = pooled[0];
        if (pooled.Count > 1)
        {
            joined = "AllStages_GlobalPool";
            graph.Node.Add(new NodeProto
            {
                OpType = "Concat", Name = joined, Input = { pooled }, Output = { joined },
                Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
            });
        }
        graph.Node.Add(new NodeProto
        {
            OpType = "Flatten", Name = OutputName, Input = { joined }, Output = { OutputName },
            Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
        });

        var channels = stageEnds.Select(s => Channels(graph, s)).ToList();
        graph.Output.Clear();
        graph.Output.Add(new ValueInfoProto
        {
            Name = OutputName,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor
                {
                    ElemType = (int)TensorProto.Types.DataType.Float,
                    Shape = new TensorShapeProto
                    {
                        Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" },
                                new TensorShapeProto.Types.Dimension { DimValue = channels.Sum() } },
                    },
                },
            },
        });
        if (precision == FeaturePrecision.Int8) model = ResNet18Quantization.Quantize(model, ActivationRanges.Default);
        return new ResNet18Model(model.ToByteArray(), channels, precision);
    }

    /// <summary>
    /// Outputs of the residual stages before the last: the ReLU after a residual Add whose output feeds a
    /// stride-2 convolution (the next stage's downsampling).
    /// </summary>
    static List<string> EarlierStageEnds(GraphProto graph)
    {
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var ends = new List<string>();
        foreach (var relu in graph.Node.Where(n => n.OpType == "Relu"))
        {
            var afterAdd = producers.TryGetValue(relu.Input[0], out var p) && p.OpType == "Add";
            var feedsDownsampling = graph.Node.Any(n => n.OpType == "Conv" && n.Input[0] == relu.Output[0]
                && n.Attribute.Any(a => a.Name == "strides" && a.Ints.Contains(2)));
            if (afterAdd && feedsDownsampling && !ends.Contains(relu.Output[0])) ends.Add(relu.Output[0]);
        }
        if (ends.Count != 3)
            throw new InvalidDataException($"ResNet18.onnx: expected 3 earlier residual stages, found {ends.Count}");
        return ends;
    }

    /// <summary>Channels of a tensor: the output channels of the convolution nearest upstream.</summary>
    static int Channels(GraphProto graph, string tensor)
    {
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var weights = graph.Initializer.ToDictionary(t => t.Name);
        var pending = new Queue<string>([tensor]);
        while (pending.Count > 0)
        {
            if (!producers.TryGetValue(pending.Dequeue(), out var node)) continue;
            if (node.OpType == "Conv") return (int)weights[node.Input[1]].Dims[0];
            foreach (var i in node.Input) pending.Enqueue(i);
        }
        throw new InvalidDataException($"ResNet18.onnx: cannot tell the channels of {tensor}");
    }
}
