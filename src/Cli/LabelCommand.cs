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
        var model = new Option<string>("--model") { Description = "A model.flowers written by `flowers train`", Required = true };
        var photos = new Argument<string[]>("photo") { Description = "Photo files to label", Arity = ArgumentArity.OneOrMore };
        var command = new Command("label", "Label photos with a trained model.") { model, photos };
        command.SetAction(parsed =>
        {
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
