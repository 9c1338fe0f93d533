using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace Flowers.Featurize;

/// <summary>
/// Photo bytes in, ImageNet ResNet18 features out: decodes with SkiaSharp, preprocesses as ML.NET's ResNet18
/// featurizer does and runs the (edited) network directly on ONNX Runtime. Thread-safe.
/// </summary>
public sealed class PhotoFeaturizer : IDisposable
{
    // One session per concurrent run: on 2 cores, 2 sessions x 1 thread beat one shared session and one session of
    // 2 threads (whose spinning threads starve their neighbours).
    readonly List<InferenceSession> _sessions;   // guarded by itself: sessions join while the featurizer is in use
    readonly ConcurrentQueue<InferenceSession> _idle;
    readonly Task _joining;
    bool _disposed;   // guarded by sessions
    readonly PhotoDecoder _decoder;
    readonly CaffePreprocessing _preprocessing;
    readonly SemaphoreSlim _runs;
    readonly RunOptions _runOptions = new();

    public FeaturizerOptions Options { get; }
    public string Id => Options.Id;
    /// <summary>Length of one view vector (960 multi-level, else 512).</summary>
    public int Dimension { get; }
    public int ViewCount => Options.ViewCount;
    public PhotoDecoder Decoder => _decoder;

    PhotoFeaturizer(FeaturizerOptions options, ResNet18Model model, InferenceSession first, CaffePreprocessing preprocessing)
    {
        Options = options;
        _sessions = [first];
        _idle = new ConcurrentQueue<InferenceSession>(_sessions);
        Dimension = model.Dimension;
        _decoder = new PhotoDecoder(options.InputSize, options.Limits);
        _preprocessing = preprocessing;
        _runs = new SemaphoreSlim(1, options.ConcurrentRuns);
        _joining = options.ConcurrentRuns == 1 ? Task.CompletedTask
            : Task.Run(() => JoinSessions(model, options.ConcurrentRuns - 1));
    }

    /// <summary>
    /// Loads the network from DnnImageModels/ beside the application (or <see cref="FeaturizerOptions.ModelDirectory"/>).
    /// Returns once the first ONNX Runtime session is built (about a quarter of a second from the cached optimized
    /// graph); the other <see cref="FeaturizerOptions.ConcurrentRuns"/> join as they are built, so a host that starts
    /// to label one photo does not wait for sessions it does not need yet, nor share the cores with them.
    /// </summary>
    public static PhotoFeaturizer Create(FeaturizerOptions? options = null)
    {
        options ??= new FeaturizerOptions();
        options.Validate();
        var model = ResNet18Model.Load(options.ModelDirectory, options.MultiLevel, options.Precision);
        // Reading the mean image overlaps building the session.
        var preprocessing = Task.Run(() => CaffePreprocessing.Load(options.InputSize, options.PerPixelMean, options.ModelDirectory));
        var first = CreateSession(model, options.IntraOpThreads, saveOptimized: true);
        try { return new PhotoFeaturizer(options, model, first, preprocessing.GetAwaiter().GetResult()); }
        catch
        {
            first.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads what building a featurizer for <paramref name="options"/> reads first (ONNX Runtime's native library, the
    /// cached network, the mean image), so that a host can start on it while it composes its services.
    /// </summary>
    public static void Preload(FeaturizerOptions options)
    {
        _ = OrtEnv.Instance();
        ResNet18Model.Load(options.ModelDirectory, options.MultiLevel, options.Precision);
        CaffePreprocessing.Load(options.InputSize, options.PerPixelMean, options.ModelDirectory);
    }

    void JoinSessions(ResNet18Model model, int count)
    {
        for (var i = 0; i < count; i++)
        {
            InferenceSession session;
            // The first session built fine from the same model, so a failure here is the machine (memory): the
            // featurizer goes on with the sessions it has.
            try { session = CreateSession(model, Options.IntraOpThreads, saveOptimized: false); }
            catch (OnnxRuntimeException) { return; }
            lock (_sessions)
            {
                if (_disposed) { session.Dispose(); return; }
                _sessions.Add(session);
            }
            _idle.Enqueue(session);
            _runs.Release();
        }
    }

    /// <summary>
    /// A session on the edited model. Optimizing the graph is most of a session's start-up, so the first session
    /// of a process saves its optimized graph beside the cached model, and later processes load that graph with
    /// optimization off (the same kernels, so the same features). The file is specific to this ONNX Runtime and
    /// this CPU (NCHWc layouts), which its name records; a file that will not load is replaced.
    /// </summary>
    static InferenceSession CreateSession(ResNet18Model model, int intraOpThreads, bool saveOptimized)
    {
        var optimized = OptimizedGraphPath(model);
        if (optimized is not null && File.Exists(optimized))
        {
            using var load = CreateSessionOptions(intraOpThreads);
            load.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
            try { return new InferenceSession(optimized, load); }
            catch (OnnxRuntimeException) { TryDelete(optimized); }
        }
        using var o = CreateSessionOptions(intraOpThreads);
        if (optimized is null || !saveOptimized) return new InferenceSession(model.OnnxBytes, o);
        var temp = $"{optimized}.{Guid.NewGuid():N}.tmp";
        o.OptimizedModelFilePath = temp;
        var session = new InferenceSession(model.OnnxBytes, o);
        try { File.Move(temp, optimized, overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { TryDelete(temp); } // a cache, not a requirement
        return session;
    }

    /// <summary>Where sessions keep the optimized graph of <paramref name="model"/>; null when the model is not cached on disk.</summary>
    public static string? OptimizedGraphPath(ResNet18Model model) =>
        model.CachePath is { } cached ? $"{cached}.optimized-{OptimizedGraphKey}.onnx" : null;

    /// <summary>ONNX Runtime's version, the CPU model and its kernels: an optimized graph is only reused where all are the same.</summary>
    static readonly string OptimizedGraphKey = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
        $"{typeof(InferenceSession).Assembly.GetName().Version}|{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}|{CpuKernels.Model()}|{CpuKernels.Describe()}")))[..12];

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
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
            // ORT warns on every saved optimized graph that it is specific to this machine: its cache key already says so.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // Spinning worker threads burn a core while they wait; on a shared 2-core machine that costs more than it saves.
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return o;
    }

    /// <exception cref="PhotoRejectedException">The bytes are not a photo we can read.</exception>
    public PhotoFeatures Featurize(ReadOnlySpan<byte> encodedPhoto)
    {
        var (input, length) = PrepareRented(encodedPhoto);
        try { return Infer(input, length); }
        finally { ArrayPool<float>.Shared.Return(input); }
    }

    /// <summary>Features of an already decoded photo (of <see cref="FeaturizerOptions.InputSize"/> pixels).</summary>
    public PhotoFeatures Featurize(PhotoPixels pixels) => Infer(Prepare(pixels));

    /// <summary>The network input for a photo: one [3, size, size] block per view.</summary>
    public float[] Prepare(PhotoPixels pixels)
    {
        var block = 3 * Options.InputSize * Options.InputSize;
        var input = new float[ViewCount * block];
        for (var v = 0; v < ViewCount; v++)
            _preprocessing.Write(pixels, mirrored: v == 1, input.AsSpan(v * block, block));
        return input;
    }

    /// <summary>Runs the network on <see cref="Prepare"/>'s output; waits while <see cref="FeaturizerOptions.ConcurrentRuns"/> are busy.</summary>
    public PhotoFeatures Infer(float[] input) => Infer(input, input.Length);

    PhotoFeatures Infer(float[] input, int length)
    {
        _runs.Wait();
        try { return Run(input, length); }
        finally { _runs.Release(); }
    }

    /// <summary>
    /// Decodes and prepares into pooled arrays (returns the first <paramref name="length"/> floats of a rented
    /// array the caller gives back): fresh arrays this big live on the large object heap, and at dozens of photos
    /// a second collecting them cost more CPU than decoding.
    /// </summary>
    (float[] Input, int Length) PrepareRented(ReadOnlySpan<byte> encodedPhoto)
    {
        var pixels = _decoder.Decode(encodedPhoto, pooled: true);
        try
        {
            var block = 3 * Options.InputSize * Options.InputSize;
            var input = ArrayPool<float>.Shared.Rent(ViewCount * block);
            for (var v = 0; v < ViewCount; v++)
                _preprocessing.Write(pixels, mirrored: v == 1, input.AsSpan(v * block, block));
            return (input, ViewCount * block);
        }
        finally { ArrayPool<byte>.Shared.Return(pixels.Rgba); }
    }

    /// <summary>Runs on an idle session; the caller holds a slot of <see cref="_runs"/>, so one is always idle.</summary>
    PhotoFeatures Run(float[] input, int length)
    {
        var size = Options.InputSize;
        var views = length / (3 * size * size);
        if (views * 3 * size * size != length || views == 0)
            throw new ArgumentException($"input must be whole [3, {size}, {size}] blocks", nameof(input));
        if (!_idle.TryDequeue(out var session)) throw new InvalidOperationException("no idle inference session");
        try
        {
            using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, length), [views, 3, size, size]);
            using var outputs = session.Run(_runOptions, [ResNet18Model.InputName], [tensor], [ResNet18Model.OutputName]);
            var all = outputs[0].GetTensorDataAsSpan<float>();
            var result = new float[views][];
            for (var v = 0; v < views; v++) result[v] = all.Slice(v * Dimension, Dimension).ToArray();
            return new PhotoFeatures(result);
        }
        finally { _idle.Enqueue(session); }
    }

    /// <summary>
    /// Featurizes many photos on <see cref="FeaturizerOptions.ConcurrentRuns"/> threads (at least two), each taking
    /// the next photo, decoding it and running the network on it, so one thread decodes while another infers; a
    /// bounded window of outcomes keeps memory flat. Outcomes come in input order; a photo that fails becomes an
    /// outcome with <see cref="FeaturizeOutcome.Error"/> and the rest go on. Stopping the enumeration early stops
    /// the threads; an error of the photo source itself is thrown after the outcomes of the photos it gave.
    /// </summary>
    public IEnumerable<FeaturizeOutcome> FeaturizeAll(IEnumerable<PhotoBytes> photos, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(photos);
        return Pipeline(photos, ct);
    }

    IEnumerable<FeaturizeOutcome> Pipeline(IEnumerable<PhotoBytes> photos, CancellationToken ct)
    {
        var workers = Math.Max(2, Options.ConcurrentRuns);
        using var window = new OutcomeWindow(4 * workers + 4, ct);
        using var source = photos.GetEnumerator();
        var threads = Enumerable.Range(0, workers).Select(_ => Task.Factory.StartNew(() =>
        {
            while (window.Take(source) is var (index, photo) && index >= 0)
                window.Put(index, FeaturizeOne(photo));
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            while (window.Next() is { } outcome) yield return outcome;
        }
        finally
        {
            window.Stop();
            Task.WaitAll(threads); // they catch everything: a photo's error is its outcome, the source's is the window's
        }
    }

    FeaturizeOutcome FeaturizeOne(PhotoBytes photo)
    {
        (float[] Input, int Length) input;
        try { input = PrepareRented(photo.Bytes.Span); }
        catch (PhotoRejectedException e) { return new FeaturizeOutcome(photo.Key, null, e.Reason); }
        catch (Exception e) { return new FeaturizeOutcome(photo.Key, null, $"decoding failed: {e.Message}"); }
        try { return new FeaturizeOutcome(photo.Key, Infer(input.Input, input.Length), null); }
        catch (Exception e) { return new FeaturizeOutcome(photo.Key, null, $"featurizing failed: {e.Message}"); }
        finally { ArrayPool<float>.Shared.Return(input.Input); }
    }

    /// <summary>
    /// The photos in flight between FeaturizeAll's threads and its caller, in input order. One lock and
    /// Monitor.Wait: the blocking collections and task waits this replaces spin before they sleep, and on two
    /// busy cores that spinning took CPU from the network (perf: ~2% of a training run's).
    /// </summary>
    sealed class OutcomeWindow : IDisposable
    {
        readonly object _gate = new();
        readonly object _reading = new();  // one thread reads the photo source at a time
        readonly FeaturizeOutcome?[] _slots;
        readonly CancellationToken _ct;
        readonly CancellationTokenRegistration _wake;
        long _taken, _handed;   // photos taken from the source; outcomes handed to the caller
        bool _sourceDone, _stopped;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? _sourceError;

        public OutcomeWindow(int size, CancellationToken ct)
        {
            _slots = new FeaturizeOutcome?[size];
            _ct = ct;
            _wake = ct.Register(Stop);
        }

        /// <summary>The next photo and its index, once the window has room; index -1 when there are no more.</summary>
        public (long Index, PhotoBytes Photo) Take(IEnumerator<PhotoBytes> source)
        {
            lock (_reading)
            {
                lock (_gate)
                {
                    while (!_stopped && !_sourceDone && _taken - _handed >= _slots.Length) Monitor.Wait(_gate);
                    if (_stopped || _sourceDone) return (-1, null!);
                }
                bool more;
                try { more = source.MoveNext(); }
                catch (Exception e)
                {
                    lock (_gate) { _sourceError = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); _sourceDone = true; Monitor.PulseAll(_gate); }
                    return (-1, null!);
                }
                lock (_gate)
                {
                    if (!more) { _sourceDone = true; Monitor.PulseAll(_gate); return (-1, null!); }
                    return (_taken++, source.Current);
                }
            }
        }

        public void Put(long index, FeaturizeOutcome outcome)
        {
            lock (_gate)
            {
                _slots[index % _slots.Length] = outcome;
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>The next outcome in input order; null after the last.</summary>
        /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
        public FeaturizeOutcome? Next()
        {
            lock (_gate)
            {
                var slot = _handed % _slots.Length;
                while (_slots[slot] is null && !_stopped && !(_sourceDone && _handed == _taken)) Monitor.Wait(_gate);
                _ct.ThrowIfCancellationRequested();
                if (_slots[slot] is not { } outcome)
                {
                    _sourceError?.Throw();
                    return null;
                }
                _slots[slot] = null;
                _handed++;
                Monitor.PulseAll(_gate);
                return outcome;
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _stopped = true;
                Monitor.PulseAll(_gate);
            }
        }

        public void Dispose() => _wake.Dispose();
    }

    public void Dispose()
    {
        lock (_sessions)
        {
            if (_disposed) return;
            _disposed = true;
        }
        try { _joining.Wait(); } catch (AggregateException) { } // a session still being built is disposed as it joins
        foreach (var session in _sessions) session.Dispose();
        _runOptions.Dispose();
        _runs.Dispose();
    }
}
