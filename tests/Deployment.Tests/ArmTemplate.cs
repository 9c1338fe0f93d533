using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Flowers.Deployment.Tests;

/// <summary>
/// A compiled ARM template, or a module's nested template within it, read the way ARM would for the
/// values the tests care about. It follows only <c>[parameters('x')]</c> and <c>[variables('x')]</c>
/// references (with property paths) into literals; anything else stays an unresolved expression string,
/// which then fails an equality assertion and shows itself in the message.
/// </summary>
public sealed partial class ArmTemplate
{
    private readonly JsonObject _template;
    private readonly JsonObject _arguments;
    private readonly ArmTemplate? _parent;

    private ArmTemplate(JsonObject template, JsonObject arguments, ArmTemplate? parent, string name)
    {
        _template = template;
        _arguments = arguments;
        _parent = parent;
        Name = name;
    }

    /// <summary>"main" or the module's deployment name expression.</summary>
    public string Name { get; }

    public static ArmTemplate Load(string path) =>
        new(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), [], null, Path.GetFileNameWithoutExtension(path));

    /// <summary>Resources this template deploys (not <c>existing</c> references).</summary>
    public IEnumerable<JsonObject> Resources =>
        (_template["resources"] switch
        {
            JsonArray array => array,
            JsonObject symbolic => symbolic.Select(entry => entry.Value), // languageVersion 2.0
            _ => [],
        })
        .OfType<JsonObject>()
        .Where(resource => resource["existing"]?.GetValue<bool>() != true);

    public IEnumerable<JsonObject> ResourcesOfType(string type) =>
        Resources.Where(resource => string.Equals(Text(resource["type"]), type, StringComparison.OrdinalIgnoreCase));

    public JsonObject Resource(string type)
    {
        var found = ResourcesOfType(type).ToList();
        Assert.True(found.Count == 1, $"{Name} declares {found.Count} resources of type {type}, expected one");
        return found[0];
    }

    /// <summary>Modules (nested deployments), with the arguments their parent passes.</summary>
    public IEnumerable<ArmTemplate> Modules =>
        ResourcesOfType("Microsoft.Resources/deployments").Select(deployment => new ArmTemplate(
            deployment["properties"]!["template"]!.AsObject(),
            deployment["properties"]!["parameters"]?.AsObject() ?? [],
            this,
            Text(deployment["name"]) ?? "?"));

    public IEnumerable<ArmTemplate> SelfAndDescendants => [this, .. Modules.SelectMany(module => module.SelfAndDescendants)];

    /// <summary>The one template, here or in a module below, that deploys resources of this type.</summary>
    public ArmTemplate Declaring(string type)
    {
        var found = SelfAndDescendants.Where(scope => scope.ResourcesOfType(type).Any()).ToList();
        Assert.True(found.Count == 1, $"{found.Count} templates deploy {type}, expected one");
        return found[0];
    }

    public JsonNode? Output(string name)
    {
        var output = _template["outputs"]?[name];
        Assert.True(output is not null, $"{Name} has no output {name}");
        return Resolve(output["value"]);
    }

    public IEnumerable<string> OutputNames => _template["outputs"]?.AsObject().Select(o => o.Key) ?? [];

    public IEnumerable<string> ParameterNames => _template["parameters"]?.AsObject().Select(p => p.Key) ?? [];

    /// <summary>The value a parameter has in this deployment: the parent's argument, else its default.</summary>
    public JsonNode? Parameter(string name)
    {
        if (_arguments[name] is JsonObject argument)
            return _parent!.Resolve(argument["value"]);
        var declared = _template["parameters"]?[name];
        Assert.True(declared is not null, $"{Name} has no parameter {name}");
        return Resolve(declared["defaultValue"]);
    }

    public JsonNode? Variable(string name)
    {
        var variables = _template["variables"]?.AsObject();
        Assert.True(variables is not null && variables.ContainsKey(name), $"{Name} has no variable {name}");
        return Resolve(variables[name]);
    }

    /// <summary>A deep copy of the node with every resolvable reference replaced by its value.</summary>
    public JsonNode? Resolve(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Resolve(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Resolve).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) => ResolveExpression(text),
        _ => node?.DeepClone(),
    };

    /// <summary>Values of every <c>variables('x').path</c> an expression mentions, array items spread.</summary>
    public IEnumerable<string> VariableValuesIn(string expression) =>
        VariableReference().Matches(expression).SelectMany(match =>
            Resolve(JsonValue.Create($"[variables('{match.Groups["name"].Value}'){match.Groups["path"].Value}]")) switch
            {
                JsonArray items => items.Select(item => Text(item) ?? ""),
                var single => [Text(single) ?? ""],
            });

    public static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node?.ToJsonString();

    private JsonNode? ResolveExpression(string text)
    {
        if (text.StartsWith("[[", StringComparison.Ordinal))
            return JsonValue.Create(text[1..]);
        var match = SimpleReference().Match(text);
        if (!match.Success)
            return JsonValue.Create(text);

        var name = match.Groups["name"].Value;
        var value = match.Groups["kind"].Value == "parameters" ? Parameter(name) : Variable(name);
        foreach (var property in match.Groups["path"].Value.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (value is not JsonObject owner)
                throw new InvalidOperationException($"{text}: cannot read .{property} of {value?.ToJsonString()}");
            value = Resolve(owner[property]);
        }
        return value;
    }

    [GeneratedRegex(@"^\[(?<kind>parameters|variables)\('(?<name>[^']+)'\)(?<path>(\.[A-Za-z_$][\w$]*)*)\]$")]
    private static partial Regex SimpleReference();

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)(?<path>(\.[A-Za-z_$][\w$]*)*)")]
    private static partial Regex VariableReference();
}
