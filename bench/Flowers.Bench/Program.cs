using System.CommandLine;
using Flowers.Bench;
using Flowers.Cli;

// Run as `./flowers bench ...`: the same command line, help and errors as the CLI's own commands.
var root = new RootCommand("Flowers: teach a classifier your labelled photos by transfer learning, then label new ones.") { HelpName = "flowers" };
root.Subcommands.Add(BenchCommand.Create());
return CommandRunner.Run(root, args);
