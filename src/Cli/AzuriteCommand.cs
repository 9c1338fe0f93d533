using System.CommandLine;
using Flowers.LocalHost;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>
/// `flowers azurite`: the local host's Azurite on its own, in the foreground, for Core Tools (`func start`) users:
/// reuses one already listening on 127.0.0.1:10000, otherwise starts one persisting under .azurite/ until Ctrl-C.
/// </summary>
public static class AzuriteCommand
{
    public static Command Create()
    {
        var command = new Command("azurite", "Run Azurite on 127.0.0.1:10000-10002 (data in .azurite/) for `func start`; Ctrl-C stops it.");
        command.SetAction(async (parsed, ct) =>
        {
            try
            {
                var console = CommandRunner.Console(parsed.InvocationConfiguration.Output);
                await using var azurite = await Azurite.EnsureRunningAsync(Repository.Root(), s => console.MarkupLine($"[grey]{Markup.Escape(s)}[/]"), ct);
                if (!azurite.StartedHere)
                {
                    console.MarkupLine("Azurite already listening on 127.0.0.1:10000");
                    return 0;
                }
                console.MarkupLine("[green]Azurite[/] listening on 127.0.0.1:10000-10002. Ctrl-C stops it.");
                try { await Task.Delay(Timeout.Infinite, ct); }
                catch (OperationCanceledException) { }
                return 0;
            }
            catch (Exception e)
            {
                return CommandRunner.Fail(parsed, e);
            }
        });
        return command;
    }
}
