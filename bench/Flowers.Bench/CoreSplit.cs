namespace Flowers.Bench;

/// <summary>
/// `--host-cpus`: the cores the `flowers host` processes and the featurizer baseline run on, and the others, where
/// Azurite and this process (the uploading client) run. On Azure, storage and clients are not on the instance's cores;
/// this is that split on one machine.
/// </summary>
public sealed record CoreSplit(IReadOnlyList<int> Host, IReadOnlyList<int> Others)
{
    public string HostList => string.Join(',', Host);
    public string OthersList => string.Join(',', Others);

    /// <summary>A list such as "1", "1,3" or "2-3" of the cores 0..<paramref name="cores"/>-1; the others are the rest.</summary>
    /// <exception cref="FormatException">Not a CPU list, a core this machine does not have, or no core left for the others.</exception>
    public static CoreSplit Parse(string list, int cores)
    {
        var host = new SortedSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-');
            if (range.Length > 2 || !int.TryParse(range[0], out var from) || !int.TryParse(range[^1], out var to))
                throw new FormatException($"--host-cpus {list}: '{part}' is not a core number or a range like 2-3");
            if (from < 0 || to >= cores || from > to)
                throw new FormatException($"--host-cpus {list}: this machine has cores 0-{cores - 1}");
            for (var c = from; c <= to; c++) host.Add(c);
        }
        var others = Enumerable.Range(0, cores).Where(c => !host.Contains(c)).ToList();
        if (others.Count == 0) throw new FormatException($"--host-cpus {list}: leaves no core for Azurite and the client");
        return new CoreSplit([.. host], others);
    }

    /// <summary>Moves every thread of this process onto <paramref name="cpus"/>; processes it starts afterwards inherit them.</summary>
    public static void PinThisProcess(string cpus)
    {
        var (code, _, error) = BenchCommand.Exec("taskset", ["-a", "-c", "-p", cpus, Environment.ProcessId.ToString()]);
        if (code != 0) throw new InvalidOperationException($"taskset -a -c -p {cpus} failed ({code}): {error}");
    }
}
