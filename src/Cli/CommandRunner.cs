using System.CommandLine;
using System.CommandLine.Invocation;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>Runs a command line the way every flowers command wants it: short errors, no stack traces.</summary>
public static class CommandRunner
{
    /// <summary>Exit code of a command that failed on bad input or a failed stage.</summary>
    public const int Failed = 1;

    /// <summary>Set to 1 to see the stack trace behind an error.</summary>
    public const string DebugVariable = "FLOWERS_DEBUG";

    public static int Run(RootCommand root, string[] args, InvocationConfiguration? configuration = null)
    {
        var parsed = root.Parse(args);
        // A usage mistake gets its error line(s), not a page of help.
        if (parsed.Action is ParseErrorAction parseError) parseError.ShowHelp = false;
        return parsed.Invoke(configuration ?? new InvocationConfiguration());
    }

    /// <summary>A Spectre console over <paramref name="writer"/>: rich on a terminal, plain text elsewhere.</summary>
    public static IAnsiConsole Console(TextWriter writer)
    {
        var terminal = writer == System.Console.Out || writer == System.Console.Error;
        return AnsiConsole.Create(terminal
            ? new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) }
            : new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
    }

    /// <summary>Prints one red line for <paramref name="error"/> on the error stream and returns the exit code.</summary>
    public static int Fail(ParseResult parsed, Exception error)
    {
        var message = error is OperationCanceledException
            ? "cancelled"
            : string.Join(' ', error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Written by hand, not through Spectre, which would wrap a long line at its idea of the width.
        var writer = parsed.InvocationConfiguration.Error;
        var colour = writer == System.Console.Error && !System.Console.IsErrorRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        writer.WriteLine(colour ? $"\u001b[31merror: {message}\u001b[0m" : $"error: {message}");
        if (Environment.GetEnvironmentVariable(DebugVariable) == "1")
            writer.WriteLine(error.ToString());
        return error is OperationCanceledException ? 130 : Failed;
    }
}
