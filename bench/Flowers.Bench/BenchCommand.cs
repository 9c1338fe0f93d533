using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flowers.Featurize;
using Microsoft.ML.OnnxRuntime;
using Spectre.Console;

namespace Flowers.Bench;

/// <summary>One measured figure of `flowers bench`: a median over repeats, and the target it must meet (if any).</summary>
public sealed record BenchFigure(string Name, double Measured, string Unit, double? Target = null, IReadOnlyList<double>? Samples = null, bool AtMost = false)
{
    /// <summary>Null when the figure has no target (reported for information). Targets are floors unless <see cref="AtMost"/>.</summary>
    public bool? Holds => Target is { } t ? (AtMost ? Measured <= t : Measured >= t) : null;
}

/// <summary>What every benchmark gets: the photos, how often to repeat, where to say what it is doing.</summary>
public sealed record BenchContext(string Dataset, IReadOnlyList<string> Photos, int Repeat, string? RepoRoot, IAnsiConsole Console)
{
    /// <summary>The input size a training run on these photos would choose (from a sample of them).</summary>
    public InputSizeChoice InputSize() => InputSizeChoice.From(InputSizeChoice.SampleOf(Photos).Select(File.ReadAllBytes));
}

/// <summary>
/// `flowers bench`: measures the product's speed claims side by side in one run and prints a table of
/// figure, measured, target, holds?. Figure groups: featurization (<see cref="FeaturizeBenchmark"/>) and the durable pipeline (<see cref="PipelineBenchmark"/>).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var dataset = new Option<DirectoryInfo?>("--dataset") { Description = "Class-per-folder photos (default ../shared/datasets/flowers128 beside the repo)" };
        var limit = new Option<int>("--limit") { Description = "Photos the pipeline trains on, spread over the classes; 0 = the whole data set", DefaultValueFactory = _ => 0 };
        var featurizeLimit = new Option<int>("--featurize-limit")
        {
            Description = "Photos for the featurizer comparison (its ratios do not depend on the data set's size)", DefaultValueFactory = _ => 600,
        };
        var uploads = new Option<int>("--uploads") { Description = "Photos uploaded one by one for the label latency", DefaultValueFactory = _ => 200 };
        var burst = new Option<int>("--burst") { Description = "Photos uploaded at once for the label throughput", DefaultValueFactory = _ => 500 };
        var hosts = new Option<int>("--hosts") { Description = "Scale-out figures for 1..N `flowers host` processes on one Azurite (0: none)", DefaultValueFactory = _ => 3 };
        var hostCpus = new Option<string?>("--host-cpus")
        {
            Description = "Pipeline figures with the hosts and the featurizer baseline on these cores (e.g. 1) and Azurite and the client on the rest, as storage is off the instance on Azure",
        };
        var only = new Option<string?>("--only") { Description = "Run one group of figures: featurize, defaults or pipeline" };
        only.AcceptOnlyFromAmong("featurize", "defaults", "pipeline");
        var repeat = new Option<int>("--repeat") { Description = "Repeats; figures are medians", DefaultValueFactory = _ => 3 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the figures as JSON to this file" };
        var command = new Command("bench",
            "Measure featurization (vs bare ONNX Runtime and ML.NET) and the durable pipeline on Azurite: overhead, warm re-training, label latency and throughput, cold start, peak RSS")
            { dataset, limit, featurizeLimit, repeat, json, uploads, burst, hosts, hostCpus, only };
        command.SetAction(parse => Run(parse.GetValue(dataset), parse.GetValue(limit), parse.GetValue(featurizeLimit), parse.GetValue(repeat), parse.GetValue(json),
            parse.GetValue(uploads), parse.GetValue(burst), parse.GetValue(hosts), parse.GetValue(hostCpus), parse.GetValue(only)));
        return command;
    }

    static int Run(DirectoryInfo? datasetOption, int limit, int featurizeLimit, int repeat, FileInfo? jsonFile, int uploads, int burst, int hosts, string? hostCpus, string? only)
    {
        var console = AnsiConsole.Console;
        var root = RepoRoot();
        var dataset = datasetOption?.FullName ?? DefaultDataset(root);
        if (dataset is null || !Directory.Exists(dataset))
        {
            console.MarkupLineInterpolated($"[red]No dataset:[/] pass --dataset DIR (a folder with one subfolder of photos per class).");
            return 2;
        }
        if (limit < 0 || featurizeLimit < 1 || repeat < 1 || uploads < 1 || burst < 1 || hosts < 0)
        {
            console.MarkupLine("[red]--featurize-limit, --repeat, --uploads and --burst must be at least 1, --limit and --hosts at least 0[/]");
            return 2;
        }
        CoreSplit? cores = null;
        try { cores = hostCpus is null ? null : CoreSplit.Parse(hostCpus, Environment.ProcessorCount); }
        catch (FormatException e)
        {
            console.MarkupLineInterpolated($"[red]{e.Message}[/]");
            return 2;
        }
        var pipeline = new PipelineBenchSettings(uploads, burst, hosts, cores);
        var photos = Spread(dataset, limit == 0 ? int.MaxValue : limit);
        var featurizePhotos = Spread(dataset, featurizeLimit);
        console.MarkupLineInterpolated(
            $"bench: {dataset}: featurizer comparison on {featurizePhotos.Count} photos, pipeline on {photos.Count}; {repeat} repeat(s), {Environment.ProcessorCount} cores; 8-bit kernels: {CpuKernels.Describe()}");

        var benchmarks = new List<Func<IEnumerable<BenchFigure>>>();
        if (only is null or "featurize") benchmarks.Add(() => FeaturizeBenchmark.Run(new BenchContext(dataset, featurizePhotos, repeat, root, console)));
        if (only is null or "defaults") benchmarks.Add(() => DefaultsBenchmark.Run(new BenchContext(dataset, featurizePhotos, repeat, root, console)));
        if (only is null or "pipeline") benchmarks.Add(() => PipelineBenchmark.Run(new BenchContext(dataset, photos, repeat, root, console), pipeline));
        var started = DateTimeOffset.UtcNow;
        var load = LoadAverage();
        var figures = benchmarks.SelectMany(b => b().ToList()).ToList();

        var table = new Table().AddColumns("figure", "measured", "target", "holds?");
        foreach (var f in figures)
            table.AddRow(Markup.Escape(f.Name), $"{f.Measured:0.###} {Markup.Escape(f.Unit)}",
                f.Target is { } t ? $"{(f.AtMost ? "<=" : ">=")} {t:0.###}" : "",
                f.Holds switch { true => "[green]yes[/]", false => "[red]no[/]", null => "" });
        console.Write(table);
        console.MarkupLineInterpolated($"started {started:yyyy-MM-dd HH:mm} UTC, load average at start {load}, at end {LoadAverage()}");

        if (jsonFile is not null)
        {
            var report = new
            {
                dataset, photos = photos.Count, featurizePhotos = featurizePhotos.Count, repeat, pipeline.Uploads, pipeline.Burst, cores = Environment.ProcessorCount,
                hostCpus = cores?.HostList, storageAndClientCpus = cores?.OthersList, cpu = CpuKernels.Describe(), cpuModel = CpuKernels.Model(),
                started, loadAtStart = load, loadAtEnd = LoadAverage(), figures,
            };
            File.WriteAllText(jsonFile.FullName, JsonSerializer.Serialize(report, JsonOptions));
            console.MarkupLineInterpolated($"wrote {jsonFile.FullName}");
        }
        return figures.Any(f => f.Holds == false) ? 1 : 0;
    }

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Runs a tool to its end: its exit code, stdout, and stderr trimmed (both read at once, so neither pipe fills).</summary>
    internal static (int Code, string Output, string Error) Exec(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result.Trim());
    }

    /// <summary>Up to <paramref name="limit"/> photos, taken evenly from the sorted list so every class is in.</summary>
    static List<string> Spread(string dataset, int limit)
    {
        var all = Directory.GetDirectories(dataset).Order(StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal)).ToList();
        if (all.Count <= limit) return all;
        return Enumerable.Range(0, limit).Select(i => all[(int)((long)i * all.Count / limit)]).ToList();
    }

    /// <summary>The 1, 5 and 15 minute load averages (the machine is shared: figures mean little without them).</summary>
    static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    static string? RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Flowers.sln"))) return d.FullName;
        return null;
    }

    static string? DefaultDataset(string? root)
    {
        var fromEnv = Environment.GetEnvironmentVariable("FLOWERS_DATASET_DIR");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        return root is null ? null : Path.GetFullPath(Path.Combine(root, "..", "shared", "datasets", "flowers128"));
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// What a photo costs the product's featurizer as it is configured (input size, every view, decode included) against
/// the defaults before input size 288: process CPU time per photo, both interleaved within each repeat. Run it on
/// full-resolution photos (oxford17): on small ones decoding costs less and the ratio comes out higher.
/// </summary>
static class DefaultsBenchmark
{
    public static readonly FeaturizerOptions Earlier = new() { InputSize = 224 };

    public static IEnumerable<BenchFigure> Run(BenchContext context)
    {
        var choice = context.InputSize();
        var current = choice.Apply(new FeaturizerOptions());
        context.Console.MarkupLineInterpolated($"  input size of the defaults on these photos: {choice}");
        using var now = PhotoFeaturizer.Create(current);
        using var before = PhotoFeaturizer.Create(Earlier);
        FeaturizeBenchmark.Drain(now.FeaturizeAll(context.Photos.Take(10).Select(FeaturizeBenchmark.Read)));
        FeaturizeBenchmark.Drain(before.FeaturizeAll(context.Photos.Take(10).Select(FeaturizeBenchmark.Read)));
        var (cpuNow, cpuBefore) = (new List<double>(), new List<double>());
        for (var r = 0; r < context.Repeat; r++)
        {
            cpuNow.Add(FeaturizeBenchmark.Timed(() => FeaturizeBenchmark.Drain(now.FeaturizeAll(context.Photos.Select(FeaturizeBenchmark.Read)))).CpuMs);
            cpuBefore.Add(FeaturizeBenchmark.Timed(() => FeaturizeBenchmark.Drain(before.FeaturizeAll(context.Photos.Select(FeaturizeBenchmark.Read)))).CpuMs);
            context.Console.MarkupLineInterpolated($"  repeat {r + 1}: defaults {cpuNow[^1]:0.0} CPU ms/photo, earlier defaults {cpuBefore[^1]:0.0}");
        }
        yield return new BenchFigure($"featurize CPU time, defaults ({current.InputSize} px, {current.ViewCount} views, decode included)", BenchCommand.Median(cpuNow), "ms/photo", Samples: cpuNow);
        yield return new BenchFigure($"same, earlier defaults ({Earlier.InputSize} px, {Earlier.ViewCount} views)", BenchCommand.Median(cpuBefore), "ms/photo", Samples: cpuBefore);
        var ratio = cpuNow.Zip(cpuBefore, (a, b) => a / b).ToList();
        yield return new BenchFigure("defaults / earlier defaults, CPU per photo", BenchCommand.Median(ratio), "x", 1.6, ratio, AtMost: true);
    }
}

/// <summary>
/// Featurization throughput, three ways on the same photos, interleaved within each repeat so that load from
/// other processes hits all three alike: (1) PhotoFeaturizer.FeaturizeAll from file bytes (decode overlapped with
/// inference), (2) bare ONNX Runtime on the already decoded and preprocessed tensors (same model and session
/// settings, same concurrency), (3) ML.NET's LoadImages -> ResizeImages -> ExtractPixels -> DnnFeaturizeImage,
/// in a child process (bench/MlNetReference). All at 224 px, one view per photo: the work ML.NET does. The product's
/// featurizer runs the 8-bit network; the same featurizer on the float network is measured alongside.
/// </summary>
static class FeaturizeBenchmark
{
    public static IEnumerable<BenchFigure> Run(BenchContext context)
    {
        var console = context.Console;
        var options = new FeaturizerOptions { InputSize = 224, MirroredView = false };
        var cold = Stopwatch.StartNew();
        using var featurizer = PhotoFeaturizer.Create(options);
        var coldStart = cold.Elapsed.TotalSeconds;
        using var float32 = PhotoFeaturizer.Create(options with { Precision = FeaturePrecision.Float32 });

        // Decode once up front for the bare baseline: it measures inference alone.
        var tensors = context.Photos.Select(p => TryPrepare(featurizer, p)).OfType<float[]>().ToList();
        var model = ResNet18Model.Load(options.ModelDirectory, options.MultiLevel, options.Precision);
        using var sessionOptions = PhotoFeaturizer.CreateSessionOptions(options.IntraOpThreads);
        var bare = Enumerable.Range(0, options.ConcurrentRuns).Select(_ => new InferenceSession(model.OnnxBytes, sessionOptions)).ToArray();
        var reference = MlNetReference.Locate(context, console);

        // Warm-up: JIT, ORT's first-run allocations, the page cache.
        Drain(featurizer.FeaturizeAll(context.Photos.Take(10).Select(Read)));
        Drain(float32.FeaturizeAll(context.Photos.Take(10).Select(Read)));
        Bare(bare, tensors.Take(10).ToList(), options);

        var ours = new List<double>();
        var floats = new List<double>();
        var bareRates = new List<double>();
        var mlnet = new List<double>();
        var cpu = (Ours: new List<double>(), Bare: new List<double>(), MlNet: new List<double>());
        double? mlnetColdStart = null;
        for (var r = 0; r < context.Repeat; r++)
        {
            var (rate, cpuMs) = Timed(() => Drain(featurizer.FeaturizeAll(context.Photos.Select(Read))));
            ours.Add(rate);
            cpu.Ours.Add(cpuMs);
            floats.Add(Timed(() => Drain(float32.FeaturizeAll(context.Photos.Select(Read)))).Rate);
            (rate, cpuMs) = Timed(() => Bare(bare, tensors, options));
            bareRates.Add(rate);
            cpu.Bare.Add(cpuMs);
            if (reference is not null && MlNetReference.Measure(reference, context, console) is { } m)
            {
                mlnet.Add(m.ImagesPerSecond);
                cpu.MlNet.Add(m.CpuMillisecondsPerImage);
                mlnetColdStart ??= m.ColdStartSeconds;
            }
            console.MarkupLineInterpolated(
                $"  repeat {r + 1}: featurizer {ours[^1]:0.0} img/s (float network {floats[^1]:0.0}), bare ONNX Runtime {bareRates[^1]:0.0} img/s{(mlnet.Count > r ? $", ML.NET {mlnet[^1]:0.0} img/s" : "")}");
        }

        // Ratios are medians of each repeat's own ratio: the three runs of a repeat see about the same load from
        // other processes, while load drifts between repeats.
        var o = BenchCommand.Median(ours);
        yield return new BenchFigure($"featurize 224 px, FeaturizeAll from files ({options.ConcurrentRuns} runs x {options.IntraOpThreads} thread, int8)", o, "img/s", Samples: ours);
        yield return new BenchFigure("same on the float32 network", BenchCommand.Median(floats), "img/s", Samples: floats);
        var vsFloat = ours.Zip(floats, (a, b) => a / b).ToList();
        yield return new BenchFigure("int8 / float32 featurizer", BenchCommand.Median(vsFloat), "x", Samples: vsFloat);
        yield return new BenchFigure("bare ONNX Runtime on decoded tensors (same int8 model)", BenchCommand.Median(bareRates), "img/s", Samples: bareRates);
        var vsBare = ours.Zip(bareRates, (a, b) => a / b).ToList();
        yield return new BenchFigure("featurize / bare ONNX Runtime", BenchCommand.Median(vsBare), "x", 0.9, vsBare);
        if (mlnet.Count > 0)
        {
            yield return new BenchFigure("ML.NET DnnFeaturizeImage pipeline", BenchCommand.Median(mlnet), "img/s", Samples: mlnet);
            var vsMlNet = ours.Zip(mlnet, (a, b) => a / b).ToList();
            yield return new BenchFigure("featurize / ML.NET pipeline", BenchCommand.Median(vsMlNet), "x", 1.5, vsMlNet);
            // On a machine shared with other work, each one's best repeat is the nearest to its speed alone.
            yield return new BenchFigure("featurize / ML.NET pipeline, best repeat of each", ours.Max() / mlnet.Max(), "x");
        }
        yield return new BenchFigure("featurize CPU time", BenchCommand.Median(cpu.Ours), "ms/img", Samples: cpu.Ours);
        yield return new BenchFigure("bare ONNX Runtime CPU time", BenchCommand.Median(cpu.Bare), "ms/img", Samples: cpu.Bare);
        if (cpu.MlNet.Count > 0) yield return new BenchFigure("ML.NET pipeline CPU time", BenchCommand.Median(cpu.MlNet), "ms/img", Samples: cpu.MlNet);
        foreach (var session in bare) session.Dispose();
        yield return new BenchFigure("featurizer cold start (load + edit model, sessions)", coldStart, "s");
        if (mlnetColdStart is { } mc) yield return new BenchFigure("ML.NET pipeline cold start (Fit)", mc, "s");
    }

    /// <summary>Images a second and CPU milliseconds an image (this whole process) of a run that returns its image count.</summary>
    internal static (double Rate, double CpuMs) Timed(Func<int> run)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var images = run();
        var seconds = sw.Elapsed.TotalSeconds;
        process.Refresh();
        return (images / seconds, (process.TotalProcessorTime - cpu).TotalMilliseconds / images);
    }

    internal static PhotoBytes Read(string path) => new(path, File.ReadAllBytes(path));

    static float[]? TryPrepare(PhotoFeaturizer featurizer, string path)
    {
        try { return featurizer.Prepare(featurizer.Decoder.Decode(File.ReadAllBytes(path))); }
        catch (PhotoRejectedException) { return null; }
    }

    internal static int Drain(IEnumerable<FeaturizeOutcome> outcomes) => outcomes.Count(o => o.Succeeded);

    /// <summary>
    /// Images a second of plain session.Run calls over prepared tensors, with the featurizer's concurrency:
    /// one thread per session, each taking every n-th tensor.
    /// </summary>
    static int Bare(InferenceSession[] sessions, IReadOnlyList<float[]> tensors, FeaturizerOptions options)
    {
        var size = options.InputSize;
        Parallel.For(0, sessions.Length, new ParallelOptions { MaxDegreeOfParallelism = sessions.Length }, k =>
        {
            using var runOptions = new RunOptions();
            for (var i = k; i < tensors.Count; i += sessions.Length)
            {
                using var tensor = OrtValue.CreateTensorValueFromMemory(tensors[i], [1, 3, size, size]);
                using var outputs = sessions[k].Run(runOptions, [ResNet18Model.InputName], [tensor], [ResNet18Model.OutputName]);
            }
        });
        return tensors.Count;
    }
}

/// <summary>Runs bench/MlNetReference (built on first use) and reads its one JSON line.</summary>
static class MlNetReference
{
    public sealed record Result(double ImagesPerSecond, double CpuMillisecondsPerImage, double ColdStartSeconds);

    public static string? Locate(BenchContext context, IAnsiConsole console)
    {
        if (context.RepoRoot is null)
        {
            console.MarkupLine("[yellow]ML.NET reference skipped: run from the repository (bench/MlNetReference is built from source)[/]");
            return null;
        }
        var output = Path.Combine(context.RepoRoot, ".build", "mlnet-reference");
        var dll = Path.Combine(output, "MlNetReference.dll");
        var project = Path.Combine(context.RepoRoot, "bench", "MlNetReference", "MlNetReference.csproj");
        var stale = !File.Exists(dll) || Directory.GetFiles(Path.GetDirectoryName(project)!, "*.cs*")
            .Any(f => File.GetLastWriteTimeUtc(f) > File.GetLastWriteTimeUtc(dll));
        if (stale)
        {
            console.MarkupLine("building bench/MlNetReference (ML.NET's own pipeline, a separate process)...");
            var (code, _, error) = BenchCommand.Exec("dotnet", ["build", project, "-c", "Release", "-o", output, "-nologo", "-v", "quiet"]);
            if (code != 0)
            {
                console.MarkupLineInterpolated($"[yellow]ML.NET reference skipped: build failed: {error}[/]");
                return null;
            }
        }
        return dll;
    }

    public static Result? Measure(string dll, BenchContext context, IAnsiConsole console)
    {
        var list = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(list, context.Photos);
            var (code, output, error) = BenchCommand.Exec("dotnet", [dll, "--files", list, "--warmup", "10"]);
            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith('{'));
            if (code != 0 || line is null)
            {
                console.MarkupLineInterpolated($"[yellow]ML.NET reference failed ({code}): {error}[/]");
                return null;
            }
            using var json = JsonDocument.Parse(line);
            double MedianOf(string name) => BenchCommand.Median(json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()));
            return new Result(MedianOf("imagesPerSecond"), MedianOf("cpuMillisecondsPerImage"), json.RootElement.GetProperty("coldStartSeconds").GetDouble());
        }
        finally { File.Delete(list); }
    }

}
