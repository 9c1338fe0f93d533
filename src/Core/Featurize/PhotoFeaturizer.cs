using Microsoft.ML.OnnxRuntime;

namespace Flowers.Featurize;

/// <summary>
/// Photo bytes in, ImageNet ResNet18 features out: decodes with SkiaSharp, preprocesses as ML.NET's ResNet18
/// featurizer does and runs the (edited) network directly on ONNX Runtime. Thread-safe.
/// </summary>
public sealed class PhotoFeaturizer : IDisposable
{
    readonly InferenceSession session;
    readonly PhotoDecoder decoder;
    readonly CaffePreprocessing preprocessing;
    readonly SemaphoreSlim runs;
    readonly RunOptions runOptions = new();

    public FeaturizerOptions Options { get; }
    public string Id => Options.Id;
    /// <summary>Length of one view vector (960 multi-level, else 512).</summary>
    public int Dimension { get; }
    public int ViewCount => Options.ViewCount;
    public PhotoDecoder Decoder => decoder;

    PhotoFeaturizer(FeaturizerOptions options, InferenceSession session, int dimension)
    {
        Options = options;
        this.session = session;
        Dimension = dimension;
        decoder = new PhotoDecoder(options.InputSize, options.Limits);
        preprocessing = CaffePreprocessing.Load(options.InputSize, options.PerPixelMean, options.ModelDirectory);
        runs = new SemaphoreSlim(options.ConcurrentRuns);
    }

    /// <summary>Loads the network from DnnImageModels/ beside the app (or <see cref="FeaturizerOptions.ModelDirectory"/>).</summary>
    public static PhotoFeaturizer Create(FeaturizerOptions? options = null)
    {
        options ??= new FeaturizerOptions();
        options.Validate();
        var model = ResNet18Model.Load(options.ModelDirectory, options.MultiLevel);
        using var sessionOptions = CreateSessionOptions(options.IntraOpThreads);
        return new PhotoFeaturizer(options, new InferenceSession(model.OnnxBytes, sessionOptions), model.Dimension);
    }

    /// <summary>The ONNX Runtime settings this featurizer runs with (also used by the benchmark's bare baseline).</summary>
    public static SessionOptions CreateSessionOptions(int intraOpThreads)
    {
        var o = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
        };
        // Spinning worker threads burn a core while they wait; on a shared 2-core machine that costs more than it saves.
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return o;
    }

    /// <exception cref="PhotoRejectedException">The bytes are not a photo we can read.</exception>
    public PhotoFeatures Featurize(ReadOnlySpan<byte> encodedPhoto) => Featurize(decoder.Decode(encodedPhoto));

    /// <summary>Features of an already decoded photo (of <see cref="FeaturizerOptions.InputSize"/> pixels).</summary>
    public PhotoFeatures Featurize(PhotoPixels pixels) => Infer(Prepare(pixels));

    /// <summary>The network input for a photo: one [3, size, size] block per view.</summary>
    public float[] Prepare(PhotoPixels pixels)
    {
        var block = 3 * Options.InputSize * Options.InputSize;
        var input = new float[ViewCount * block];
        for (var v = 0; v < ViewCount; v++)
            preprocessing.Write(pixels, mirrored: v == 1, input.AsSpan(v * block, block));
        return input;
    }

    /// <summary>Runs the network on <see cref="Prepare"/>'s output; waits while <see cref="FeaturizerOptions.ConcurrentRuns"/> are busy.</summary>
    public PhotoFeatures Infer(float[] input)
    {
        runs.Wait();
        try { return Run(input); }
        finally { runs.Release(); }
    }

    async Task<PhotoFeatures> InferAsync(float[] input, CancellationToken ct)
    {
        await runs.WaitAsync(ct).ConfigureAwait(false);
        try { return Run(input); }
        finally { runs.Release(); }
    }

    PhotoFeatures Run(float[] input)
    {
        var size = Options.InputSize;
        var views = input.Length / (3 * size * size);
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [views, 3, size, size]);
        using var outputs = session.Run(runOptions, [ResNet18Model.InputName], [tensor], [ResNet18Model.OutputName]);
        var all = outputs[0].GetTensorDataAsSpan<float>();
        var result = new float[views][];
        for (var v = 0; v < views; v++) result[v] = all.Slice(v * Dimension, Dimension).ToArray();
        return new PhotoFeatures(result);
    }

    /// <summary>
    /// Featurizes many photos, decoding the next ones while the network runs on earlier ones (a bounded window,
    /// so memory stays flat). Outcomes come in input order; a photo that fails becomes an outcome with
    /// <see cref="FeaturizeOutcome.Error"/> and the rest go on.
    /// </summary>
    public IEnumerable<FeaturizeOutcome> FeaturizeAll(IEnumerable<PhotoBytes> photos, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(photos);
        var window = 2 * Options.ConcurrentRuns + 2;
        var pending = new Queue<Task<FeaturizeOutcome>>();
        foreach (var photo in photos)
        {
            ct.ThrowIfCancellationRequested();
            pending.Enqueue(Task.Run(() => FeaturizeOne(photo, ct), ct));
            if (pending.Count >= window) yield return pending.Dequeue().GetAwaiter().GetResult();
        }
        while (pending.Count > 0) yield return pending.Dequeue().GetAwaiter().GetResult();
    }

    async Task<FeaturizeOutcome> FeaturizeOne(PhotoBytes photo, CancellationToken ct)
    {
        try
        {
            var input = Prepare(decoder.Decode(photo.Bytes.Span));
            return new FeaturizeOutcome(photo.Key, await InferAsync(input, ct).ConfigureAwait(false), null);
        }
        catch (PhotoRejectedException e) { return new FeaturizeOutcome(photo.Key, null, e.Reason); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) { return new FeaturizeOutcome(photo.Key, null, $"featurizing failed: {e.Message}"); }
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
        runs.Dispose();
    }
}
