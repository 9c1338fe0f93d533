using System.CommandLine;
using System.Globalization;
using Flowers.Acquire;
using Flowers.LocalHost;
using Flowers.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>
/// `flowers quickstart`: the whole product once, end to end: fetch the data set (cached), start Azurite and a
/// local host if none runs, train and publish through the durable pipeline, then upload a few photos and
/// print the labels the published model gives them.
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset")
        {
            Description = $"Labelled photos, one folder per class: a folder, a .tgz/.zip file or an http(s) URL [default: {AcquireOptions.DefaultUrl}]",
        };
        var output = new Option<string>("--out") { Description = "Folder for the model, metrics and report", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") };
        var photos = new Option<int>("--photos") { Description = "How many photos to label at the end", DefaultValueFactory = _ => 5 };
        var command = new Command("quickstart", "Train and publish a model through the local durable pipeline, then label a few photos with it.") { dataset, output, photos };
        command.SetAction(async (parsed, ct) =>
        {
            try
            {
                var console = CommandRunner.Console(parsed.InvocationConfiguration.Output);
                console.Write(new Rule("[bold]1. Data set[/]").LeftJustified());
                // Located once here (download + extraction cached), so the pipeline ingests a local folder.
                var folder = await new DatasetAcquirer(new AcquireOptions()).LocateAsync(parsed.GetValue(dataset), null, ct);
                console.MarkupLine($"Photos in [bold]{Markup.Escape(folder)}[/]");

                console.Write(new Rule("[bold]2. Train and publish through the durable pipeline[/]").LeftJustified());
                var options = new RunOptions { Dataset = folder, OutputDirectory = Path.GetFullPath(parsed.GetValue(output)!) };
                // One host for both steps: the model it publishes is the one that labels the uploads.
                await using var pipeline = await DurableRun.ConnectAsync(console, ct);
                var (metrics, modelId, notPublished) = await DurableRun.RunAsync(console, pipeline, options, 0, ct);
                MetricsView.Write(console, metrics, modelId, Path.Combine(options.OutputDirectory, Flowers.Storage.StorageNames.ModelPackageFile),
                    Path.Combine(options.OutputDirectory, Flowers.Storage.StorageNames.MetricsFile));
                if (notPublished is not null) throw new InvalidOperationException($"the model was not published: {notPublished}");

                console.Write(new Rule("[bold]3. Label photos by uploading them[/]").LeftJustified());
                var scan = DatasetFolder.Scan(folder);
                var sample = scan.Photos.GroupBy(p => p.Class).SelectMany(g => g.Take(1))
                    .Concat(scan.Photos.Skip(1)).Take(parsed.GetValue(photos)).ToList();
                var results = await pipeline.Client.LabelAsync(sample.Select(p => p.FilePath).ToList(), TimeSpan.FromSeconds(120), ct);
                var table = new Table().AddColumns("photo", "true class", "label", "confidence");
                for (var i = 0; i < sample.Count; i++)
                    table.AddRow(Markup.Escape(sample[i].Name), Markup.Escape(sample[i].Class),
                        results[i].Label is { } label ? (label == sample[i].Class ? $"[green]{Markup.Escape(label)}[/]" : $"[red]{Markup.Escape(label)}[/]") : $"[red]error: {Markup.Escape(results[i].Error ?? "")}[/]",
                        results[i].Confidence?.ToString("0.000", CultureInfo.InvariantCulture) ?? "");
                console.Write(table);
                console.MarkupLine($"[green]Done.[/] Model [bold]{Markup.Escape(modelId)}[/] is published; its report: {Markup.Escape(Path.Combine(options.OutputDirectory, "report.html"))}");
                return results.All(r => r.Label is not null) ? 0 : CommandRunner.Failed;
            }
            catch (Exception e)
            {
                return CommandRunner.Fail(parsed, e);
            }
        });
        return command;
    }
}
