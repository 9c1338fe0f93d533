using System.CommandLine;
using Flowers.Cli;
using Flowers.Testing;
using Flowers.Tests.Runs;

namespace Flowers.Tests.Cli;

public class CliTests
{
    private sealed record Outcome(int ExitCode, string Output, string Error);

    private static Outcome Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { TrainCommand.Create(), LabelCommand.Create() };
        var code = CommandRunner.Run(root, args, new InvocationConfiguration { Output = output, Error = error });
        return new Outcome(code, output.ToString(), error.ToString());
    }

    private static void AssertOneLineError(Outcome outcome, string expected)
    {
        Assert.NotEqual(0, outcome.ExitCode);
        var lines = outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", outcome.Error);
    }

    [Fact]
    public void Train_needs_an_output_folder()
    {
        var outcome = Run("train", "--dataset", "x");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("--out", outcome.Error);
    }

    [Fact]
    public void Train_refuses_an_unknown_trainer()
    {
        var outcome = Run("train", "--out", "x", "--trainer", "svm");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("svm", outcome.Error);
    }

    [Fact]
    public void Train_on_a_missing_folder_fails_with_one_line()
    {
        using var folder = new TempFolder();
        AssertOneLineError(Run("train", "--in-process", "--dataset", folder["nowhere"], "--out", folder["out"], "--cache", folder["cache"]), "error:");
    }

    [Fact]
    public void Train_rejects_a_bad_option_value_with_one_line()
    {
        using var folder = new TempFolder();
        var dataset = SyntheticPhotos.WriteFolder(folder["photos"], perClass: 2, seed: 1000, broken: true);
        AssertOneLineError(Run("train", "--in-process", "--dataset", dataset, "--out", folder["out"], "--l2", "-1"), "L2");
    }

    [Fact]
    public void Label_with_a_missing_model_fails_with_one_line()
    {
        AssertOneLineError(Run("label", "--model", "/no/such/model.flowers", "a.jpg"), "/no/such/model.flowers");
    }

    [Fact]
    public void Train_then_label()
    {
        using var folder = new TempFolder();
        var dataset = SyntheticPhotos.WriteFolder(folder["photos"], perClass: 8, seed: 1000, broken: true);

        var train = Run("train", "--in-process", "--dataset", dataset, "--out", folder["out"], "--cache", folder["cache"], "--input-size", "128", "--seed", "7");

        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("Test accuracy", train.Output);
        Assert.Contains("Confusion matrix", train.Output);
        Assert.Contains("stripes", train.Output);
        Assert.True(File.Exists(folder["out/metrics.json"]));

        File.WriteAllBytes(folder["square.jpg"], SyntheticPhotos.Jpeg("square", 4242));
        File.WriteAllText(folder["notes.jpg"], "not a photo");
        var label = Run("label", "--model", folder["out/model.flowers"], folder["square.jpg"], folder["notes.jpg"], folder["missing.jpg"]);

        var lines = label.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Equal([folder["square.jpg"], "square"], lines[0][..2]);
        Assert.InRange(double.Parse(lines[0][2], System.Globalization.CultureInfo.InvariantCulture), 0.34, 1.0);
        Assert.Equal([folder["notes.jpg"], "error"], lines[1][..2]);
        Assert.Equal([folder["missing.jpg"], "error", "no such file"], lines[2]);
        Assert.Equal(CommandRunner.Failed, label.ExitCode); // some photos could not be labelled
    }
}
