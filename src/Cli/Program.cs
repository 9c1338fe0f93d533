using System.CommandLine;
using Flowers.Cli;

var root = new RootCommand("Flowers: teach a classifier your labelled photos by transfer learning, then label new ones.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(LabelCommand.Create());
root.Subcommands.Add(HostCommand.Create());
root.Subcommands.Add(QuickstartCommand.Create());
root.Subcommands.Add(AzuriteCommand.Create());
return CommandRunner.Run(root, args);
