using System.CommandLine;
using Flowers.LocalHost;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Flowers.Cli;

/// <summary>
/// `flowers host`: the Functions app without Core Tools, in the foreground: Azurite (started if nothing
/// listens on 10000), the HTTP routes on 127.0.0.1:7071, the durable worker and the upload watcher.
/// </summary>
public static class HostCommand
{
    public static Command Create()
    {
        var verbose = new Option<bool>("--verbose") { Description = "Log every activity and labelled upload" };
        var command = new Command("host", "Run the Functions app locally on Azurite: HTTP API on 127.0.0.1:7071, durable worker, upload labelling.") { verbose };
        command.SetAction(async (parsed, ct) =>
        {
            // A photo may be waiting: the featurizer's first reads start now, beside the host's own start-up.
            _ = Task.Run(() => { try { Flowers.Featurize.PhotoFeaturizer.Preload(new Flowers.Featurize.FeaturizerOptions()); } catch (Exception) { } }); // the featurizer reads them again when built, and reports what is wrong then
            try
            {
                var console = CommandRunner.Console(parsed.InvocationConfiguration.Output);
                var root = Repository.Root();
                var settings = LocalSettings.Load(root);
                // Verbose = what the pipeline does (stages, activities, labels), not every HTTP request and queue poll.
                var detail = parsed.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning;
                using var logging = LoggerFactory.Create(b => b
                    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                    .SetMinimumLevel(LogLevel.Warning)
                    .AddFilter("Flowers", detail)
                    .AddFilter("Microsoft.DurableTask.Worker", detail));
                await using var azurite = settings.UsesAzurite ? await Azurite.EnsureRunningAsync(root, s => console.MarkupLine($"[grey]{Markup.Escape(s)}[/]"), ct) : null;
                await using var host = await FlowersLocalHost.StartAsync(new LocalHostOptions
                {
                    StorageConnection = settings.StorageConnection,
                    Url = settings.Url,
                    FunctionKey = FunctionKey.LoadOrCreate(root),
                    Training = settings.Training,
                    Telemetry = settings.Telemetry,
                    LabelOneByOne = Environment.GetEnvironmentVariable(LocalHostOptions.LabelOneByOneVariable) == "1",
                }, logging, ct);
                console.MarkupLine($"[green]Flowers host[/] listening on [bold]{Markup.Escape(host.BaseAddress.ToString())}[/] " +
                                   $"(function key in {Markup.Escape(FunctionKey.PathIn(root))}; storage: {(settings.UsesAzurite ? "Azurite" : "the configured account")}).");
                console.MarkupLine("  POST api/training · GET api/training/{id} · GET api/models/current · GET api/models/{id} · uploads/ is watched. Ctrl-C stops.");
                try { await Task.Delay(Timeout.Infinite, ct); }
                catch (OperationCanceledException) { }
                console.MarkupLine("Stopping...");
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
