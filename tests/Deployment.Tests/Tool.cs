using System.Diagnostics;

namespace Flowers.Deployment.Tests;

/// <summary>What a command-line tool printed and how it exited.</summary>
public sealed record ToolResult(string Command, int ExitCode, string Output, string Errors)
{
    public override string ToString() =>
        $"{Command}\nexit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Errors}";
}

/// <summary>Runs a command-line tool to completion, with a deadline.</summary>
public static class Tool
{
    public static ToolResult Run(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            start.Environment[name] = value;

        var command = string.Join(' ', [fileName, .. start.ArgumentList]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        var deadline = timeout ?? TimeSpan.FromMinutes(2);
        if (!process.WaitForExit(deadline))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {deadline}");
        }
        return new ToolResult(command, process.ExitCode, output.Result, errors.Result);
    }
}
