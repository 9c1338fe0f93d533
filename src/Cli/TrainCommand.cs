using System.CommandLine;
using Flowers.Acquire;
using Flowers.Featurize;
using Flowers.Runs;
using Flowers.Split;
using Flowers.Train;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>
/// `flowers train`: acquire, split, featurize, train, evaluate and package, showing each stage. By default
/// through the durable pipeline on Blob Storage (the local host, or the one this command starts); with
/// --in-process every stage runs here on the local disk.
/// </summary>
public static class TrainCommand
{
    private static readonly TrainerOptions Trainer = new();
    private static readonly FeaturizerOptions Featurizer = new();

    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset")
        {
            Description = $"Labelled photos, one folder per class: a folder, a .tgz/.tar.gz/.zip file or an http(s) URL [default: {AcquireOptions.DefaultUrl}]",
        };
        var output = new Option<string>("--out") { Description = "Folder for metrics.json and model.flowers", Required = true };
        var testFraction = new Option<double>("--test-fraction")
        {
            Description = "Share of each class held out for testing",
            DefaultValueFactory = _ => SplitOptions.DefaultTestFraction,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the split and the trainer", DefaultValueFactory = _ => SplitOptions.DefaultSeed };
        var trainer = new Option<string>("--trainer") { Description = "Classifier head", DefaultValueFactory = _ => Trainer.Trainer };
        trainer.AcceptOnlyFromAmong([.. TrainerOptions.Trainers]);
        var l2 = new Option<float?>("--l2")
        {
            Description = $"L2 penalty of lbfgs/sdca [default: chosen with --normalize from {Trainer.Candidates.Count} candidates by {Trainer.ValidationFolds}-fold cross-validation on the training photos]",
        };
        var normalization = new Option<string>("--normalization") { Description = "What each view's features go through first", DefaultValueFactory = _ => Trainer.Normalization };
        normalization.AcceptOnlyFromAmong([.. FeatureNormalization.Kinds]);
        var l1 = new Option<float>("--l1") { Description = "L1 penalty of lbfgs/sdca", DefaultValueFactory = _ => Trainer.L1 };
        var maxIterations = new Option<int>("--max-iterations") { Description = "lbfgs iterations / sdca passes at most", DefaultValueFactory = _ => Trainer.MaxIterations };
        var normalize = new Option<bool>("--normalize") { Description = "Standardise features before lbfgs/sdca (with --l2; without it cross-validation chooses)" };
        var leaves = new Option<int>("--leaves") { Description = "lightgbm: leaves per tree", DefaultValueFactory = _ => Trainer.NumberOfLeaves };
        var iterations = new Option<int>("--iterations") { Description = "lightgbm: boosting rounds", DefaultValueFactory = _ => Trainer.NumberOfIterations };
        var learningRate = new Option<double>("--learning-rate") { Description = "lightgbm: learning rate", DefaultValueFactory = _ => Trainer.LearningRate };
        var inputSize = new Option<int?>("--input-size")
        {
            Description = $"Side in pixels photos are resized to for the network [default: {InputSizeChoice.Upscale}x the training photos' median short side, {InputSizeChoice.Smallest}-{InputSizeChoice.Largest}]",
        };
        var precision = new Option<FeaturePrecision>("--precision")
        {
            Description = "The network's arithmetic: int8 (about 3x faster on CPUs with VNNI) or float32 (the network as published)",
            DefaultValueFactory = _ => Featurizer.Precision,
        };
        var inProcess = new Option<bool>("--in-process")
        {
            Description = "Run every stage in this process on the local disk, without Azurite or the durable pipeline",
        };
        var minAccuracy = new Option<double>("--min-accuracy") { Description = "Publish the model only if its test accuracy reaches this (pipeline only)" };
        var cache = new Option<string?>("--cache") { Description = $"Folder for downloads, extracted data sets and features [default: ${AcquireOptions.CacheEnvironmentVariable} or {new AcquireOptions().CacheDirectory}]" };

        var command = new Command("train", "Train a flower classifier on labelled photos and measure it on held-out ones.")
        {
            dataset, output, testFraction, seed, trainer, l2, normalization, l1, maxIterations, normalize, leaves, iterations, learningRate, inputSize, precision, cache, inProcess, minAccuracy,
        };
        command.SetAction(async (parsed, ct) =>
        {
            try
            {
                var acquire = new AcquireOptions();
                if (parsed.GetValue(cache) is { } cacheDirectory) acquire = acquire with { CacheDirectory = Path.GetFullPath(cacheDirectory) };
                var options = new RunOptions
                {
                    Dataset = parsed.GetValue(dataset),
                    OutputDirectory = Path.GetFullPath(parsed.GetValue(output)!),
                    Split = new SplitOptions(parsed.GetValue(testFraction), parsed.GetValue(seed)),
                    Featurizer = Featurizer with { InputSize = parsed.GetValue(inputSize) ?? Featurizer.InputSize, Precision = parsed.GetValue(precision) },
                    ChooseInputSize = parsed.GetValue(inputSize) is null,
                    Trainer = Trainer with
                    {
                        Trainer = parsed.GetValue(trainer)!,
                        L2 = parsed.GetValue(l2),
                        Normalization = parsed.GetValue(normalization)!,
                        L1 = parsed.GetValue(l1),
                        MaxIterations = parsed.GetValue(maxIterations),
                        Normalize = parsed.GetValue(normalize),
                        NumberOfLeaves = parsed.GetValue(leaves),
                        NumberOfIterations = parsed.GetValue(iterations),
                        LearningRate = parsed.GetValue(learningRate),
                        Seed = parsed.GetValue(seed),
                    },
                    Acquire = acquire,
                };
                var console = CommandRunner.Console(parsed.InvocationConfiguration.Output);
                if (parsed.GetValue(inProcess))
                {
                    MetricsView.Write(console, await RunWithProgress(console, options, ct));
                    return 0;
                }
                if (options.Featurizer.Precision != Featurizer.Precision)
                    throw new ArgumentException("--precision applies to --in-process runs: the durable pipeline featurizes as its host does (int8)");
                await using var pipeline = await DurableRun.ConnectAsync(console, ct);
                var (metrics, modelId, notPublished) = await DurableRun.RunAsync(console, pipeline, options, parsed.GetValue(minAccuracy), ct);
                MetricsView.Write(console, metrics, modelId, Path.Combine(options.OutputDirectory, Flowers.Storage.StorageNames.ModelPackageFile),
                    Path.Combine(options.OutputDirectory, Flowers.Storage.StorageNames.MetricsFile));
                console.MarkupLine(notPublished is null ? $"[green]Published[/] {Markup.Escape(modelId)}: uploads are now labelled with it."
                    : $"[yellow]Not published[/]: {Markup.Escape(notPublished)}");
                return 0;
            }
            catch (Exception e)
            {
                return CommandRunner.Fail(parsed, e);
            }
        });
        return command;
    }

    private static Task<InProcessRunResult> RunWithProgress(IAnsiConsole console, RunOptions options, CancellationToken ct) =>
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = TrainingStages.Shown.Take(3).Select(s => (s, context.AddTask(s, autoStart: false, maxValue: 1))).ToArray();
                var progress = new StageDisplay(tasks);
                try
                {
                    return await new InProcessRun().RunAsync(options, progress, ct);
                }
                finally
                {
                    progress.StopAll();
                }
            });

    /// <summary>Moves the bar of the stage being reported and completes the stages before it.</summary>
    private sealed class StageDisplay(IReadOnlyList<(string Stage, ProgressTask Task)> tasks) : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            ProgressTask? current = null;
            foreach (var (stage, task) in tasks)
            {
                if (stage == value.Stage)
                {
                    current = task;
                    break;
                }
                if (task.Value < task.MaxValue) task.Value = task.MaxValue;
                task.StopTask();
            }
            if (current is null) return;
            if (!current.IsStarted) current.StartTask();
            current.IsIndeterminate = value.Total is null;
            current.MaxValue = Math.Max(value.Total ?? 1, 1);
            current.Value = Math.Min(value.Done, current.MaxValue);
            if (value.Total is { } total && value.Done >= total && value.Stage is TrainingStages.Train)
                current.StopTask();
        }

        public void StopAll()
        {
            foreach (var (_, task) in tasks.Where(t => t.Task.IsStarted)) task.StopTask();
        }
    }
}
