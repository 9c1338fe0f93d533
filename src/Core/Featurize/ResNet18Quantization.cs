using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Flowers.Featurize;

/// <summary>
/// Turns the (edited) float ResNet18 into an 8-bit one in ONNX's QDQ form, which ONNX Runtime fuses into
/// integer kernels (QLinearConv, QLinearAdd), several times the photos a second of the float network, with features
/// close to the float ones (bench/README.md). The recipe is the usual static one:
/// <list type="bullet">
/// <item>batch normalisation folded into the convolutions (scale the weights, fold mean and shift into a bias);</item>
/// <item>weights: signed 7 bits (<see cref="WeightBits"/>), symmetric, one scale per output channel; biases: 32 bits at input scale x weight scale;</item>
/// <item>activations: unsigned 8 bits over a fixed range per tensor (<see cref="ActivationRanges"/>, measured once on
/// photos), quantized where they leave a Conv, Add, ReLU or MaxPool (a ReLU's input is left to the ReLU, which
/// ONNX Runtime then folds into the quantization of its output).</item>
/// </list>
/// Fixed ranges (rather than ranges measured on each data set) keep features a function of the photo alone,
/// so feature caches and published models stay valid whatever else is in the data set.
/// </summary>
public static class ResNet18Quantization
{
    /// <summary>QuantizeLinear per channel needs opset 13; nothing else the network uses changed meaning since opset 8.</summary>
    const int Opset = 13;

    /// <summary>
    /// Weights use 7 of their 8 bits (-63..63). x86 CPUs without VNNI multiply 8-bit pairs with vpmaddubsw, whose
    /// 16-bit sum of two products saturates past 32767: 255 x 127 x 2 does, 255 x 63 x 2 does not, so every CPU
    /// computes the same exact integer sums.
    /// </summary>
    public const int WeightBits = 7;

    /// <summary>The float network with batch normalisation folded into the convolutions, at opset 13.</summary>
    public static ModelProto FoldBatchNorm(ModelProto edited)
    {
        var model = edited.Clone();
        var graph = model.Graph;
        var weights = graph.Initializer.ToDictionary(t => t.Name);
        var producers = Producers(graph);
        foreach (var norm in graph.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            var conv = producers[norm.Input[0]];
            if (conv.OpType != "Conv")
                throw new InvalidDataException($"ResNet18.onnx: {norm.Name} follows a {conv.OpType}, not a Conv");
            var epsilon = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var (gamma, beta, mean, variance) = (Floats(weights[norm.Input[1]]), Floats(weights[norm.Input[2]]),
                Floats(weights[norm.Input[3]]), Floats(weights[norm.Input[4]]));
            var kernel = weights[conv.Input[1]];
            var w = Floats(kernel);
            var outputs = (int)kernel.Dims[0];
            var perOutput = w.Length / outputs;
            var bias = conv.Input.Count > 2 ? Floats(weights[conv.Input[2]]) : new float[outputs];
            for (var c = 0; c < outputs; c++)
            {
                var k = gamma[c] / MathF.Sqrt(variance[c] + epsilon);
                for (var i = 0; i < perOutput; i++) w[c * perOutput + i] *= k;
                bias[c] = (bias[c] - mean[c]) * k + beta[c];
            }
            Replace(graph, weights, FloatTensor(kernel.Name, w, [.. kernel.Dims]));
            var biasName = $"{conv.Input[1]}_FoldedBias";
            Replace(graph, weights, FloatTensor(biasName, bias, outputs));
            if (conv.Input.Count > 2) conv.Input[2] = biasName; else conv.Input.Add(biasName);
            conv.Output[0] = norm.Output[0];
            graph.Node.Remove(norm);
        }
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        foreach (var unused in graph.Initializer.Where(t => !used.Contains(t.Name)).ToList()) graph.Initializer.Remove(unused);
        // The CNTK export (IR 3) lists every initializer as a graph input too; only the photo is one.
        foreach (var input in graph.Input.Where(i => i.Name != ResNet18Model.InputName).ToList()) graph.Input.Remove(input);
        model.OpsetImport.Clear();
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.IrVersion = 7;
        return model;
    }

    /// <summary>The activations that get a fixed range, in graph order: the input, then each Conv, Add, ReLU and MaxPool output not read by a ReLU alone.</summary>
    public static IReadOnlyList<string> QuantizedTensors(GraphProto folded)
    {
        var consumers = folded.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
        return [ResNet18Model.InputName, .. folded.Node
            .Where(n => n.OpType is "Conv" or "Add" or "Relu" or "MaxPool")
            .Select(n => n.Output[0])
            .Where(o => !consumers[o].All(c => c.OpType == "Relu"))];
    }

    /// <summary>
    /// The folded float network that also outputs every tensor of <see cref="QuantizedTensors"/> but the input (for
    /// measuring their ranges), and those tensors.
    /// </summary>
    public static (byte[] Model, IReadOnlyList<string> Tensors) CalibrationModel(ModelProto edited)
    {
        var model = FoldBatchNorm(edited);
        var tensors = QuantizedTensors(model.Graph);
        foreach (var tensor in tensors.Skip(1)) model.Graph.Output.Add(new ValueInfoProto { Name = tensor });
        return (model.ToByteArray(), tensors);
    }

    /// <summary>The 8-bit network in QDQ form.</summary>
    /// <exception cref="InvalidDataException"><paramref name="ranges"/> lacks a tensor of this network.</exception>
    public static ModelProto Quantize(ModelProto edited, ActivationRanges ranges, int weightBits = WeightBits)
    {
        var weightMax = (1 << (weightBits - 1)) - 1;
        var model = FoldBatchNorm(edited);
        var graph = model.Graph;
        var weights = graph.Initializer.ToDictionary(t => t.Name);
        var added = new List<NodeProto>();
        var producers = Producers(graph);

        // A max pool cannot widen a range: sharing its input's lets ONNX Runtime run it on the 8-bit values.
        var rangeOf = QuantizedTensors(graph).ToDictionary(t => t, t => producers.TryGetValue(t, out var p) && p.OpType == "MaxPool" ? p.Input[0] : t);
        var scales = new Dictionary<string, float>();
        foreach (var (tensor, measured) in rangeOf)
        {
            if (!ranges.Ranges.TryGetValue(measured, out var range))
                throw new InvalidDataException($"activation ranges have no entry for {measured}: measure them again for this model");
            var (scale, zeroPoint) = UnsignedAffine(range[0], range[1]);
            scales[tensor] = scale;
            graph.Initializer.Add(new TensorProto { Name = $"{tensor}_Scale", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(scale)) });
            graph.Initializer.Add(new TensorProto { Name = $"{tensor}_ZeroPoint", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom([zeroPoint]) });
            var dequantized = $"{tensor}_Dequantized";
            foreach (var node in graph.Node)
                for (var i = 0; i < node.Input.Count; i++)
                    if (node.Input[i] == tensor) node.Input[i] = dequantized;
            added.Add(new NodeProto { OpType = "QuantizeLinear", Name = $"{tensor}_Quantize", Input = { tensor, $"{tensor}_Scale", $"{tensor}_ZeroPoint" }, Output = { $"{tensor}_Quantized" } });
            added.Add(new NodeProto { OpType = "DequantizeLinear", Name = $"{tensor}_Dequantize", Input = { $"{tensor}_Quantized", $"{tensor}_Scale", $"{tensor}_ZeroPoint" }, Output = { dequantized } });
        }

        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv"))
        {
            var input = conv.Input[0].EndsWith("_Dequantized", StringComparison.Ordinal) ? conv.Input[0][..^"_Dequantized".Length] : conv.Input[0];
            if (!scales.TryGetValue(input, out var inputScale))
                throw new InvalidDataException($"ResNet18.onnx: the input of {conv.Name} is not quantized");
            var kernel = weights[conv.Input[1]];
            var w = Floats(kernel);
            var b = Floats(weights[conv.Input[2]]);
            var outputs = (int)kernel.Dims[0];
            var perOutput = w.Length / outputs;
            var (q, weightScales, qBias, biasScales) = (new sbyte[w.Length], new float[outputs], new int[outputs], new float[outputs]);
            for (var c = 0; c < outputs; c++)
            {
                var max = 0f;
                for (var i = 0; i < perOutput; i++) max = Math.Max(max, Math.Abs(w[c * perOutput + i]));
                weightScales[c] = max == 0 ? 1 : max / weightMax;
                for (var i = 0; i < perOutput; i++)
                    q[c * perOutput + i] = (sbyte)Math.Clamp(MathF.Round(w[c * perOutput + i] / weightScales[c]), -weightMax, weightMax);
                biasScales[c] = inputScale * weightScales[c];
                qBias[c] = (int)Math.Clamp(Math.Round(b[c] / biasScales[c]), int.MinValue, int.MaxValue);
            }
            graph.Initializer.Remove(kernel);
            graph.Initializer.Remove(weights[conv.Input[2]]);
            conv.Input[1] = AddDequantized(graph, added, kernel.Name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(q.AsSpan()), [.. kernel.Dims], weightScales, 1);
            conv.Input[2] = AddDequantized(graph, added, conv.Input[2], TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(qBias.AsSpan()), [outputs], biasScales, 4);
        }

        // Nodes in an order where each reads only what earlier nodes (or initializers, or the input) made.
        var pending = graph.Node.Concat(added).ToList();
        graph.Node.Clear();
        var made = new HashSet<string>(graph.Initializer.Select(t => t.Name)) { ResNet18Model.InputName };
        while (pending.Count > 0)
        {
            var ready = pending.Where(n => n.Input.All(i => i.Length == 0 || made.Contains(i))).ToList();
            if (ready.Count == 0) throw new InvalidDataException("ResNet18.onnx: the quantized graph has a cycle");
            foreach (var node in ready)
            {
                graph.Node.Add(node);
                foreach (var o in node.Output) made.Add(o);
                pending.Remove(node);
            }
        }
        return model;
    }

    /// <summary>Scale and zero point that map [min, max] (widened to hold 0, which must stay exact) onto 0..255.</summary>
    public static (float Scale, byte ZeroPoint) UnsignedAffine(float min, float max)
    {
        (min, max) = (Math.Min(0, min), Math.Max(0, max));
        var scale = (max - min) / 255f;
        if (scale == 0) return (1, 0);
        return (scale, (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255));
    }

    /// <summary>An integer initializer and the DequantizeLinear (per output channel) that reads it; returns the float tensor's name.</summary>
    static string AddDequantized(GraphProto graph, List<NodeProto> added, string name, TensorProto.Types.DataType type,
        ReadOnlySpan<byte> data, long[] dims, float[] scales, int bytesPerValue)
    {
        graph.Initializer.Add(new TensorProto { Name = $"{name}_Quantized", DataType = (int)type, Dims = { dims }, RawData = ByteString.CopyFrom(data) });
        graph.Initializer.Add(FloatTensor($"{name}_Scale", scales, scales.Length));
        graph.Initializer.Add(new TensorProto { Name = $"{name}_ZeroPoint", DataType = (int)type, Dims = { scales.Length }, RawData = ByteString.CopyFrom(new byte[bytesPerValue * scales.Length]) });
        added.Add(new NodeProto
        {
            OpType = "DequantizeLinear", Name = $"{name}_Dequantize",
            Input = { $"{name}_Quantized", $"{name}_Scale", $"{name}_ZeroPoint" }, Output = { $"{name}_Dequantized" },
            Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 } },
        });
        return $"{name}_Dequantized";
    }

    static Dictionary<string, NodeProto> Producers(GraphProto graph) =>
        graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);

    static void Replace(GraphProto graph, Dictionary<string, TensorProto> weights, TensorProto tensor)
    {
        if (weights.TryGetValue(tensor.Name, out var old)) graph.Initializer.Remove(old);
        graph.Initializer.Add(tensor);
        weights[tensor.Name] = tensor;
    }

    /// <summary>The values of a float initializer, whichever of its two fields holds them.</summary>
    public static float[] Floats(TensorProto t) =>
        t.FloatData.Count > 0 ? [.. t.FloatData] : MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray(); // raw data is little-endian

    static TensorProto FloatTensor(string name, float[] values, params long[] dims) => new()
    {
        Name = name, DataType = (int)TensorProto.Types.DataType.Float, Dims = { dims },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };
}
