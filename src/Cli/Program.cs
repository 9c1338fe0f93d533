using System.CommandLine;

var root = new RootCommand("Flowers: teach a classifier your labelled photos by transfer learning, then label new ones.");
root.Add(Flowers.Cli.BenchCommand.Create());
return root.Parse(args).Invoke();
