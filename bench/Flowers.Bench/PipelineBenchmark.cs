using System.Diagnostics;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Flowers.Featurize;
using Flowers.Labelling;
using Flowers.LocalHost;
using Flowers.Storage;
using Spectre.Console;

namespace Flowers.Bench;

/// <summary>How many photos the labelling figures use.</summary>
/// <param name="Hosts">Up to how many `flowers host` processes share one Azurite in the scale-out figures (0: none).</param>
/// <param name="Cores">Where the hosts (and the featurizer baseline) run, and where Azurite and the client do; null: all share every core.</param>
public sealed record PipelineBenchSettings(int Uploads, int Burst, int Hosts = 3, CoreSplit? Cores = null);

/// <summary>
/// The pipeline's figures, each repeat on a fresh Azurite of its own (so the first run really featurizes):
/// the featurizer's own time for the photos (in this process, the pipeline's featurizer options), then a
/// `flowers host` child process trains on them twice (cold, then with the feature cache warm); a second, new
/// `flowers host` process labels one photo (cold start), then N photos one by one (latency), then M at once
/// (throughput). Peak RSS is each child's VmHWM: the training host's while featurizing, the labelling host's
/// while labelling. The burst's ratios pair it with the featurizer measured again right before it. With
/// <see cref="PipelineBenchSettings.Cores"/>, the featurizer baselines and every host run on the host cores, and
/// Azurite and this process on the others.
/// </summary>
static class PipelineBenchmark
{
    public static IEnumerable<BenchFigure> Run(BenchContext context, PipelineBenchSettings settings)
    {
        if (context.RepoRoot is null)
        {
            context.Console.MarkupLine("[yellow]pipeline figures skipped: run from the repository (Azurite is in its node_modules)[/]");
            return [];
        }
        return RunAsync(context, settings).GetAwaiter().GetResult();
    }

    sealed class Samples
    {
        public List<double> Featurize = [], Cold = [], Warm = [], P50 = [], P95 = [], LatencyMax = [],
            BurstRate = [], BurstRateOneByOne = [], ColdStart = [], RssTraining = [], RssLabelling = [],
            FeaturizeCpu = [], HostCpu = [], AzuriteCpu = [], BurstFeaturizeRate = [], BurstFeaturizeCpu = [];
        /// <summary>CPU of each burst in batches: (host, Azurite, client) seconds a labelled photo.</summary>
        public List<(double Host, double Azurite, double Client)> BurstCpuShares = [];
        public List<Flowers.Pipeline.StageSeconds> ColdStages = [], WarmStages = [];
        public int LabelFailures;
        public List<BenchFigure> Hosts = [];
    }

    static async Task<List<BenchFigure>> RunAsync(BenchContext context, PipelineBenchSettings settings)
    {
        var console = context.Console;
        var source = CopySubset(context);
        var s = new Samples();
        try
        {
            if (settings.Cores is { } cores)
                console.MarkupLineInterpolated($"  featurizer baselines on CPU {cores.HostList}, as the hosts will be; Azurite and the client on CPU {cores.OthersList}");
            for (var r = 0; r < context.Repeat; r++)
            {
                var (seconds, cpu, _) = FeaturizeAlone(context, settings, "featurizer alone");
                s.Featurize.Add(seconds);
                s.FeaturizeCpu.Add(cpu);
            }
            for (var r = 0; r < context.Repeat; r++)
            {
                console.MarkupLineInterpolated($"  pipeline repeat {r + 1}/{context.Repeat}: fresh Azurite");
                await using var azurite = await Azurite.StartOwnAsync(context.RepoRoot!);
                await TrainAsync(context, settings, source, azurite, s);
                await LabelAsync(context, settings, azurite, s);
            }
            for (var n = 1; n <= settings.Hosts; n++) await ScaleOutAsync(context, settings, source, n, s);
        }
        finally
        {
            try { Directory.Delete(source, recursive: true); } catch (IOException) { }
        }

        var m = BenchCommand.Median;
        var featurize = m(s.Featurize);
        var figures = new List<BenchFigure>
        {
            new($"featurizer alone, {context.Photos.Count} photos (pipeline options)", featurize, "s", Samples: s.Featurize),
            new("training run through the durable pipeline, cold", m(s.Cold), "s", Samples: s.Cold),
            new("pipeline run / featurization (overhead)", m(s.Cold.Zip(s.Featurize, (c, f) => c / f)), "x", 1.25, AtMost: true),
            // Where the overhead goes on a machine whose cores the host and Azurite share: CPU, not waiting.
            new("  CPU of the cold run: host / featurizer alone", m(s.HostCpu.Zip(s.FeaturizeCpu, (h, f) => h / f)), "x"),
            new("  CPU of the cold run: Azurite / featurizer alone", m(s.AzuriteCpu.Zip(s.FeaturizeCpu, (a, f) => a / f)), "x"),
            new("re-training, feature cache warm", m(s.Warm), "s", Samples: s.Warm),
            new("first run / warm re-run (speed-up)", m(s.Cold.Zip(s.Warm, (c, w) => c / w)), "x", 10),
            new($"label latency p50 ({settings.Uploads} uploads one by one)", m(s.P50), "s", 1.0, AtMost: true),
            new("label latency p95", m(s.P95), "s", 2.0, AtMost: true),
            new($"label throughput ({settings.Burst} uploads at once)", m(s.BurstRate), "photos/s", Samples: s.BurstRate),
            new("featurization throughput, featurizer alone right before the burst", m(s.BurstFeaturizeRate), "photos/s", Samples: s.BurstFeaturizeRate),
            new("label throughput / featurization throughput", m(s.BurstRate.Zip(s.BurstFeaturizeRate, (b, f) => b / f)), "x", 0.9),
            new($"label throughput one upload at a time (the labelling before batches), same uploads", m(s.BurstRateOneByOne), "photos/s", Samples: s.BurstRateOneByOne),
            new("  one at a time / featurization throughput", m(s.BurstRateOneByOne.Zip(s.BurstFeaturizeRate, (b, f) => b / f)), "x"),
            new("  batches / one at a time", m(s.BurstRate.Zip(s.BurstRateOneByOne, (b, o) => b / o)), "x"),
            new("  host CPU a labelled photo in the burst / featurizer CPU a photo (what one Azure instance would see)",
                m(s.BurstCpuShares.Zip(s.BurstFeaturizeCpu, (b, f) => b.Host / (f / context.Photos.Count))), "x"),
            new("  Azurite / host CPU in the burst (storage, which on Azure is not on the instance)", m(s.BurstCpuShares.Select(b => b.Azurite / b.Host).ToList()), "x"),
            new("  client / host CPU in the burst (uploads and polls for results)", m(s.BurstCpuShares.Select(b => b.Client / b.Host).ToList()), "x"),
            new("cold start: new host process to first label", m(s.ColdStart), "s", 1.0, AtMost: true),
            new("peak RSS of the host while training (featurizing)", m(s.RssTraining), "MiB", 1024, AtMost: true),
            new("peak RSS of the host while labelling", m(s.RssLabelling), "MiB", 1024, AtMost: true),
        };
        foreach (var (run, stages) in new[] { ("cold", s.ColdStages), ("warm", s.WarmStages) })
        {
            if (stages.Count == 0) continue;
            figures.Add(new($"  {run} run: ingest", m(stages.Select(t => t.Ingest)), "s"));
            figures.Add(new($"  {run} run: featurize (fan-out)", m(stages.Select(t => t.Featurize)), "s"));
            figures.Add(new($"  {run} run: train, evaluate, report", m(stages.Select(t => t.Train)), "s"));
            figures.Add(new($"  {run} run: publish + label waiting uploads", m(stages.Select(t => t.Publish + t.LabelUploads)), "s"));
        }
        figures.AddRange(s.Hosts);
        if (s.LabelFailures > 0) figures.Add(new("uploads without a label (timeouts, errors)", s.LabelFailures, "photos", 0, AtMost: true));
        return figures;
    }

    static async Task TrainAsync(BenchContext context, PipelineBenchSettings settings, string source, Azurite azurite, Samples s)
    {
        await using var host = StartHost(context, settings, azurite);
        await host.WaitForHealthAsync();
        var request = new { source };   // the default shard size, as a user gets it
        foreach (var samples in new[] { s.Cold, s.Warm })
        {
            var (hostCpu, azuriteCpu) = (host.ProcessorTime, azurite.ProcessorTime);
            var requested = DateTimeOffset.UtcNow;
            var id = await host.Client.StartTrainingAsync(request);
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(20));
            var run = await host.Client.WaitForRunAsync(id, ct: limit.Token);
            // The run ends when the backend records its completion (same machine, same clock), not when the next
            // poll happens to see it, so the client need not poll often (which loads the host and storage it measures).
            samples.Add((run.LastUpdatedAt - requested).TotalSeconds);
            if (samples == s.Cold)
            {
                s.HostCpu.Add((host.ProcessorTime - hostCpu).TotalSeconds);
                if (azurite.ProcessorTime - azuriteCpu is { } storage) s.AzuriteCpu.Add(storage.TotalSeconds);
            }
            if (run.RuntimeStatus != "Completed")
                throw new InvalidOperationException($"training run {id} ended {run.RuntimeStatus}: {run.Error}; host said: {host.OutputTail}");
            var t = run.Result?.Seconds;
            if (t is not null) (samples == s.Cold ? s.ColdStages : s.WarmStages).Add(t);
            context.Console.MarkupLineInterpolated(
                $"    training run ({(samples == s.Cold ? "cold" : "warm")}): {samples[^1]:0.0} s (ingest {t?.Ingest:0.0}, featurize {t?.Featurize:0.0}, train {t?.Train:0.0}, publish {t?.Publish:0.0}, label {t?.LabelUploads:0.0})");
            if (samples == s.Cold)
                context.Console.MarkupLineInterpolated($"      CPU: host {s.HostCpu[^1]:0.0} s, Azurite {(s.AzuriteCpu.Count > 0 ? s.AzuriteCpu[^1] : double.NaN):0.0} s");
        }
        s.RssTraining.Add(PeakRssMiB(host));
    }

    const int ColdStartsPerRepeat = 3;

    /// <summary>The featurizer on the photos in this process, at the input size a training run on them chooses (so both
    /// featurize alike), on the hosts' cores when they are split off: seconds, CPU seconds, photos a second. This
    /// process is back on the other cores afterwards, before any Azurite it starts (which inherits them).</summary>
    static (double Seconds, double Cpu, double Rate) FeaturizeAlone(BenchContext context, PipelineBenchSettings settings, string what)
    {
        if (settings.Cores is { } cores) CoreSplit.PinThisProcess(cores.HostList);
        try { return Measure(); }
        finally { if (settings.Cores is { } split) CoreSplit.PinThisProcess(split.OthersList); }

        (double, double, double) Measure()
        {
            var options = context.InputSize().Apply(new FeaturizerOptions());
            using var featurizer = PhotoFeaturizer.Create(options);
            featurizer.FeaturizeAll(context.Photos.Take(10).Select(p => new PhotoBytes(p, File.ReadAllBytes(p)))).Count();
            var sw = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var done = featurizer.FeaturizeAll(context.Photos.Select(p => new PhotoBytes(p, File.ReadAllBytes(p)))).Count(o => o.Succeeded);
            var (seconds, used) = (sw.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
            context.Console.MarkupLineInterpolated($"  {what} ({options.Id}): {context.Photos.Count} photos in {seconds:0.0} s, {used:0.0} s of CPU");
            return (seconds, used, done / seconds);
        }
    }

    const int ScaleOutShardSize = 16;

    static async Task LabelAsync(BenchContext context, PipelineBenchSettings settings, Azurite azurite, Samples s)
    {
        var storage = new FlowersStorage(new BlobServiceClient(azurite.ConnectionString));
        var batch = "bench/" + Guid.NewGuid().ToString("N")[..8];
        var photos = context.Photos;

        // Cold start, a few times a repeat (it is the noisiest figure): the photo waits in uploads/ before the process
        // exists; the clock runs from process start to its label. The last host goes on to the runs below.
        HostProcess? last = null;
        for (var k = 0; k < ColdStartsPerRepeat; k++)
        {
            if (last is not null) await last.DisposeAsync();
            var photo = photos[k % photos.Count];
            var waiting = $"{batch}/cold{k}-{Path.GetFileName(photo)}";
            await storage.Uploads.GetBlobClient(waiting).UploadAsync(photo);
            var clock = Stopwatch.StartNew();
            last = StartHost(context, settings, azurite);
            if (await WaitForLabelAsync(storage, waiting, TimeSpan.FromSeconds(120)) is null) s.LabelFailures++;
            s.ColdStart.Add(clock.Elapsed.TotalSeconds);
            context.Console.MarkupLineInterpolated($"    cold start to first label: {s.ColdStart[^1]:0.00} s");
        }
        await using var host = last!;

        var latencies = new List<double>();
        for (var i = 0; i < settings.Uploads; i++)
        {
            var photo = photos[i % photos.Count];
            var name = $"{batch}/one-{i:D4}-{Path.GetFileName(photo)}";
            var bytes = await File.ReadAllBytesAsync(photo);
            var sw = Stopwatch.StartNew();
            await storage.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(bytes));
            if (await WaitForLabelAsync(storage, name, TimeSpan.FromSeconds(30)) is null) s.LabelFailures++;
            latencies.Add(sw.Elapsed.TotalSeconds);
        }
        latencies.Sort();
        s.P50.Add(Percentile(latencies, 0.50));
        s.P95.Add(Percentile(latencies, 0.95));
        context.Console.MarkupLineInterpolated($"    latency over {latencies.Count}: p50 {s.P50[^1]:0.000} s, p95 {s.P95[^1]:0.000} s, max {latencies[^1]:0.000} s");

        // The burst's baseline right before it, on the cores the host labels on: the machine's speed drifts over minutes.
        var (_, featurizeCpu, featurizeRate) = FeaturizeAlone(context, settings, "  featurizer alone, before the burst");
        s.BurstFeaturizeRate.Add(featurizeRate);
        s.BurstFeaturizeCpu.Add(featurizeCpu);
        var burst = Enumerable.Range(0, settings.Burst).Select(i => photos[i % photos.Count]).ToList();
        s.BurstRate.Add(await BurstAsync(context, [host], azurite, burst, s, "in batches", s.BurstCpuShares));
        s.RssLabelling.Add(PeakRssMiB(host));
        await host.KillAsync();

        // The same burst on a host that labels each upload on its own (the labelling before batches), side by side.
        await using var oneByOne = StartHost(context, settings, azurite, new Dictionary<string, string> { [LocalHostOptions.LabelOneByOneVariable] = "1" });
        await oneByOne.WaitForHealthAsync();
        s.BurstRateOneByOne.Add(await BurstAsync(context, [oneByOne], azurite, burst, s, "one at a time"));
    }

    /// <summary>Uploads the photos at once and waits for every label: photos labelled a second.</summary>
    /// <remarks>Prints where the CPU went meanwhile: the labelling hosts, Azurite, and this process (the uploading and
    /// polling client), since on one machine they share the cores the featurizer would have alone.</remarks>
    static async Task<double> BurstAsync(BenchContext context, IReadOnlyList<HostProcess> hosts, Azurite azurite, IReadOnlyList<string> burst, Samples s, string how,
        List<(double Host, double Azurite, double Client)>? cpuShares = null)
    {
        var client = Process.GetCurrentProcess();
        var cpu = (Hosts: hosts.Sum(h => h.ProcessorTime.TotalSeconds), Azurite: azurite.ProcessorTime?.TotalSeconds, Client: client.TotalProcessorTime.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var results = await hosts[0].Client.LabelAsync(burst, TimeSpan.FromSeconds(600));
        var seconds = clock.Elapsed.TotalSeconds;
        var labelled = results.Count(r => r.Label is not null);
        s.LabelFailures += results.Count - labelled;
        var rate = labelled / seconds;
        client.Refresh();
        var used = (Hosts: hosts.Sum(h => h.ProcessorTime.TotalSeconds) - cpu.Hosts, Azurite: azurite.ProcessorTime?.TotalSeconds - cpu.Azurite ?? double.NaN,
            Client: client.TotalProcessorTime.TotalSeconds - cpu.Client);
        cpuShares?.Add((used.Hosts / labelled, used.Azurite / labelled, used.Client / labelled));
        context.Console.MarkupLineInterpolated(
            $"    burst {how}: {labelled}/{burst.Count} labelled, {rate:0.0} photos/s; CPU over {seconds:0.0} s: host(s) {used.Hosts:0.0} s, Azurite {used.Azurite:0.0} s, client {used.Client:0.0} s");
        return rate;
    }

    /// <summary>
    /// n `flowers host` processes on one fresh Azurite: a cold training run, then a burst of uploads; how long each took
    /// and how the work divided (featurize activities and labels per host, from each host's log). Once, not per repeat.
    /// </summary>
    static async Task ScaleOutAsync(BenchContext context, PipelineBenchSettings settings, string source, int n, Samples s)
    {
        context.Console.MarkupLineInterpolated($"  {n} host(s) on one Azurite");
        await using var azurite = await Azurite.StartOwnAsync(context.RepoRoot!);
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var hosts = Enumerable.Range(0, n).Select(_ => HostProcess.Start(azurite.ConnectionString, key, Loopback.FreePort(), context.RepoRoot!, verbose: true,
            keep: line => line.Contains("Labelled ", StringComparison.Ordinal) || line.Contains("Shard ", StringComparison.Ordinal), cpus: settings.Cores?.HostList)).ToList();
        try
        {
            await Task.WhenAll(hosts.Select(h => h.WaitForHealthAsync()));
            var requested = DateTimeOffset.UtcNow;
            // Shards of 16 photos, so that a run of a few hundred photos has enough activities to show how they divide.
            var id = await hosts[0].Client.StartTrainingAsync(new { source, shardSize = ScaleOutShardSize });
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(20));
            var run = await hosts[0].Client.WaitForRunAsync(id, ct: limit.Token);
            if (run.RuntimeStatus != "Completed") throw new InvalidOperationException($"training run {id} on {n} hosts ended {run.RuntimeStatus}: {run.Error}");
            var trained = (run.LastUpdatedAt - requested).TotalSeconds;
            var burst = Enumerable.Range(0, settings.Burst).Select(i => context.Photos[i % context.Photos.Count]).ToList();
            var rate = await BurstAsync(context, hosts, azurite, burst, s, $"on {n} host(s)");
            string PerHost(string marker) => string.Join("/", hosts.Select(h => h.Output.Count(l => l.Contains(marker, StringComparison.Ordinal))));
            var division = $"featurize activities per host {PerHost("Shard ")}, labels per host {PerHost("Labelled ")}";
            context.Console.MarkupLineInterpolated($"    {n} host(s): training {trained:0.0} s, burst {rate:0.0} uploads/s; {division}");
            s.Hosts.Add(new($"{n} host(s): training run, cold, shards of {ScaleOutShardSize} ({division})", trained, "s"));
            s.Hosts.Add(new($"{n} host(s): burst of {settings.Burst} uploads", rate, "uploads/s"));
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <summary>`flowers host` on the bench's Azurite and a free port, with a key of its own, on the host cores.</summary>
    static HostProcess StartHost(BenchContext context, PipelineBenchSettings settings, Azurite azurite, IReadOnlyDictionary<string, string>? environment = null) =>
        HostProcess.Start(azurite.ConnectionString, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), Loopback.FreePort(), context.RepoRoot!,
            environment: environment, cpus: settings.Cores?.HostList);

    /// <summary>The host's high-water mark of resident memory, MiB; NaN where /proc is not there.</summary>
    static double PeakRssMiB(HostProcess host) => host.PeakResidentBytes() is { } bytes ? bytes / 1048576.0 : double.NaN;

    /// <summary>Polls labels/{name}.json every 20 ms; null when it is not written (or is an error) within the timeout.</summary>
    static async Task<LabelResult?> WaitForLabelAsync(FlowersStorage storage, string upload, TimeSpan timeout)
    {
        var blob = storage.Labels.GetBlobClient(StorageNames.LabelBlob(upload));
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await blob.ReadOrDefaultAsync<LabelResult>() is { Pending: false } result) return result.Label is null ? null : result;
            }
            catch (Azure.RequestFailedException) { } // labels/ not created yet by the starting host
            await Task.Delay(20);
        }
        return null;
    }

    static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The bench's photos as a class-per-folder data set of their own (the training request's local source).</summary>
    static string CopySubset(BenchContext context)
    {
        var root = Directory.CreateTempSubdirectory("flowers-bench-dataset-").FullName;
        foreach (var photo in context.Photos)
        {
            var label = Path.GetFileName(Path.GetDirectoryName(photo)!);
            Directory.CreateDirectory(Path.Combine(root, label));
            File.Copy(photo, Path.Combine(root, label, Path.GetFileName(photo)));
        }
        return root;
    }
}
