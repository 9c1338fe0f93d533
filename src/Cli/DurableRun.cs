using Flowers.Evaluate;
using Flowers.LocalHost;
using Flowers.Pipeline;
using Flowers.Runs;
using Flowers.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>
/// `flowers train` through the durable pipeline: the same POST /api/training a user would send to the
/// Functions app, followed stage by stage, then the model's files copied into --out.
/// </summary>
public static class DurableRun
{
    private static readonly string[] Stages = [.. TrainingStages.Shown];

    /// <summary>The body of POST /api/training for the command's options.</summary>
    public static object RequestBody(RunOptions o, double minAccuracy) => new
    {
        source = o.Dataset is null ? null
            : Uri.TryCreate(o.Dataset, UriKind.Absolute, out var url) && !url.IsFile ? o.Dataset : Path.GetFullPath(o.Dataset),
        testFraction = o.Split.TestFraction,
        seed = o.Split.Seed,
        trainer = o.Trainer.Trainer,
        trainerOptions = o.Trainer,
        minAccuracy,
        inputSize = o.ChooseInputSize ? (int?)null : o.Featurizer.InputSize,
    };

    /// <summary>The host a command talks to (already listening, or its own for the command), saying what it does.</summary>
    public static Task<LocalPipeline> ConnectAsync(IAnsiConsole console, CancellationToken ct) =>
        LocalPipeline.ConnectAsync(Repository.Root(), NullLoggerFactory.Instance, line => console.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), ct);

    public static async Task<(RunMetrics Metrics, string ModelId, string? NotPublished)> RunAsync(
        IAnsiConsole console, LocalPipeline pipeline, RunOptions options, double minAccuracy, CancellationToken ct)
    {
        var id = await pipeline.Client.StartTrainingAsync(RequestBody(options, minAccuracy), ct);
        console.MarkupLine($"[grey]Training run {Markup.Escape(id)} at {Markup.Escape(pipeline.Client.BaseAddress.ToString())}api/training/{Markup.Escape(id)}[/]");

        var run = await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bars = Stages.ToDictionary(s => s, s => context.AddTask(s, autoStart: false, maxValue: 1));
                var last = await pipeline.Client.WaitForRunAsync(id, new Progress<TrainingRunView>(view => Show(bars, view)), ct);
                Show(bars, last);
                foreach (var bar in bars.Values.Where(b => b.IsStarted)) bar.StopTask();
                return last;
            });

        if (run.RuntimeStatus != "Completed" || run.Result is null)
            throw new InvalidOperationException($"training run {id} {run.RuntimeStatus.ToLowerInvariant()}: {run.Error ?? "no result"}");
        var modelId = run.Result.Metrics.ModelId;
        await pipeline.Client.DownloadModelAsync(modelId, options.OutputDirectory, ct);
        var metrics = RunMetrics.FromJson(await File.ReadAllTextAsync(Path.Combine(options.OutputDirectory, StorageNames.MetricsFile), ct));
        return (metrics, modelId, run.Result.NotPublishedReason);
    }

    private static void Show(Dictionary<string, ProgressTask> bars, TrainingRunView view)
    {
        if (view.Progress is not { } p) return;
        var reached = Array.IndexOf(Stages, p.Stage is TrainingStages.LabelUploads or TrainingStages.Done ? TrainingStages.Publish : p.Stage);
        var done = view.RuntimeStatus == "Completed";
        for (var i = 0; i < Stages.Length; i++)
        {
            var bar = bars[Stages[i]];
            if (i > reached && !done) continue;
            if (!bar.IsStarted) bar.StartTask();
            if (i == reached && !done && Stages[i] == TrainingStages.Featurize && p.PhotosTotal > 0)
            {
                bar.MaxValue = p.PhotosTotal;
                bar.Value = p.PhotosDone;
                bar.Description = $"featurize ({p.ShardsDone}/{p.ShardsTotal} shards)";
            }
            else if (i < reached || done) bar.Value = bar.MaxValue;
            else bar.IsIndeterminate = true;
            if ((i < reached || done) && bar.IsIndeterminate) bar.IsIndeterminate = false;
        }
    }
}
