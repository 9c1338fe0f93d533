using System.Text.RegularExpressions;

namespace Flowers.Tests;

/// <summary>
/// The direction of dependencies in src/Core, held by reading its sources: the ML stages, in pipeline order, use only
/// earlier stages and no Azure, Durable Task or web type; nothing in Core uses a Functions or ASP.NET Core type.
/// The hosting folders (Training, Pipeline, Labelling, Storage) compose the stages.
/// </summary>
public class DependencyRulesTests
{
    static readonly string[] Stages = ["Acquire", "Split", "Featurize", "Train", "Evaluate", "Package", "Classify", "Report"];
    static readonly string[] Hosting = ["Azure.", "Microsoft.DurableTask", "Microsoft.Azure.Functions", "Microsoft.AspNetCore", "Microsoft.Extensions.Hosting"];

    static readonly Regex Reference = new(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;|\b(Flowers\.\w+|Azure\.\w+|Microsoft\.(?:DurableTask|Azure\.Functions|AspNetCore)\w*)\.", RegexOptions.Multiline);

    static readonly Regex StringLiteral = new("\"[^\"\n]*\"");

    static string Core => Path.Combine(Flowers.Testing.TestRepository.Root, "src", "Core");

    static IEnumerable<(string File, string Name)> References(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Core, folder), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => Reference.Matches(StringLiteral.Replace(File.ReadAllText(file), "\"\""))
                .Select(m => (Path.GetRelativePath(Core, file), m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)));

    [Fact]
    public void Each_stage_uses_only_earlier_stages_and_no_hosting_type()
    {
        Assert.True(Directory.Exists(Core), $"sources not found at {Core}");
        var broken = new List<string>();
        for (var i = 0; i < Stages.Length; i++)
        {
            var allowed = Stages.Take(i + 1).Select(s => $"Flowers.{s}").ToHashSet();
            foreach (var (file, name) in References(Stages[i]))
            {
                if (name.StartsWith("Flowers.", StringComparison.Ordinal) && !allowed.Contains(name))
                    broken.Add($"{file} uses {name}, which is not an earlier stage of {Stages[i]}");
                if (Hosting.Any(h => name.StartsWith(h, StringComparison.Ordinal)))
                    broken.Add($"{file} uses {name}: ML stages use no hosting type");
            }
        }
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void Core_uses_no_functions_or_web_type()
    {
        var broken = Directory.EnumerateDirectories(Core).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj"))
            .SelectMany(d => References(d!))
            .Where(r => r.Name.StartsWith("Microsoft.Azure.Functions", StringComparison.Ordinal) || r.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
            .Select(r => $"{r.File} uses {r.Name}").ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }
}
