using System.CommandLine;
using System.Globalization;
using Flowers.Classify;
using Flowers.Featurize;

namespace Flowers.Cli;

/// <summary>`flowers label`: one line per photo, "file TAB label TAB confidence" or "file TAB error TAB reason".</summary>
public static class LabelCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Label in this process with this model.flowers; without it, photos are uploaded and labelled by the pipeline's published model",
        };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the pipeline's results", DefaultValueFactory = _ => 60 };
        var photos = new Argument<string[]>("photo") { Description = "Photo files to label", Arity = ArgumentArity.OneOrMore };
        var command = new Command("label", "Label photos: uploaded to the pipeline (the published model), or in this process with --model.") { model, photos, timeout };
        command.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(model) is null)
            {
                try { return await ThroughPipelineAsync(parsed.GetValue(photos)!, TimeSpan.FromSeconds(parsed.GetValue(timeout)), parsed.InvocationConfiguration, ct); }
                catch (Exception e) { return CommandRunner.Fail(parsed, e); }
            }
            PhotoClassifier classifier;
            try
            {
                classifier = PhotoClassifier.Open(parsed.GetValue(model)!);
            }
            catch (Exception e)
            {
                return CommandRunner.Fail(parsed, e);
            }
            using (classifier)
            {
                var output = parsed.InvocationConfiguration.Output;
                var failures = 0;
                foreach (var file in parsed.GetValue(photos)!)
                {
                    var line = Label(classifier, file);
                    if (line.Error) failures++;
                    output.WriteLine($"{file}\t{line.Text}");
                }
                return failures == 0 ? 0 : CommandRunner.Failed;
            }
        });
        return command;
    }

    /// <summary>Uploads the photos and prints each one's result from labels/ as it would reach any user.</summary>
    private static async Task<int> ThroughPipelineAsync(string[] files, TimeSpan timeout, System.CommandLine.InvocationConfiguration io, CancellationToken ct)
    {
        var missing = files.Where(f => !File.Exists(f)).ToList();
        foreach (var file in missing) io.Output.WriteLine($"{file}\terror\tno such file");
        var present = files.Where(File.Exists).ToList();
        await using var pipeline = await Flowers.LocalHost.LocalPipeline.ConnectAsync(Repository.Root(),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, line => io.Error.WriteLine(line), ct);
        var results = await pipeline.Client.LabelAsync(present, timeout, ct);
        for (var i = 0; i < present.Count; i++)
        {
            var r = results[i];
            io.Output.WriteLine(r.Label is not null
                ? $"{Path.GetFileName(present[i])}\t{r.Label}\t{r.Confidence!.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"
                : $"{Path.GetFileName(present[i])}\terror\t{r.Error}");
        }
        return missing.Count == 0 && results.All(r => r.Label is not null) ? 0 : CommandRunner.Failed;
    }

    private static (bool Error, string Text) Label(PhotoClassifier classifier, string file)
    {
        try
        {
            var label = classifier.Classify(File.ReadAllBytes(file));
            return (false, $"{label.Label}\t{label.Confidence.ToString("0.0000", CultureInfo.InvariantCulture)}");
        }
        catch (PhotoRejectedException e)
        {
            return (true, $"error\t{e.Reason}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (true, $"error\t{(e is FileNotFoundException ? "no such file" : e.Message)}");
        }
    }
}
