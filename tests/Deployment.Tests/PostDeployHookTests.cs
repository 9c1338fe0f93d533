namespace Flowers.Deployment.Tests;

/// <summary>
/// Runs scripts/postdeploy.sh and .ps1 as azd would, against a stand-in `az` on PATH that records its
/// arguments (there is no Azure here). What is checked is what the scripts send: the webhook URL with the
/// function's name and key, the uploads filter, the event type. The environment carries the values
/// main.bicep outputs; the app URL is on 127.0.0.1 so that the scripts' wake-up request stays local.
/// </summary>
[Collection(CompiledInfraCollection.Name)]
public sealed class PostDeployHookTests : IDisposable
{
    private const string BlobsKey = "Xk3_blobs-extension-key==";
    private const string PowerShellVersion = "7.6.9";

    private readonly CompiledInfra _infra;
    private readonly string _scratch = Directory.CreateTempSubdirectory("flowers-postdeploy-").FullName;

    public PostDeployHookTests(CompiledInfra infra)
    {
        _infra = infra;
        Directory.CreateDirectory(Path.Combine(_scratch, "bin"));
        WriteExecutable("bin/az", """
            #!/bin/sh
            # Stands in for the Azure CLI: records each call, answers the key query.
            { for argument in "$@"; do printf '%s\n' "$argument"; done; printf '%s\n' '--end--'; } >> "$FAKE_AZ_LOG"
            case "$1 $2 $3" in
              "functionapp keys list") printf '%s\n' "$FAKE_BLOBS_KEY" ;;
            esac
            """);
        WriteExecutable("bin/curl", "#!/bin/sh\nexit 0\n");
    }

    // Discard port on loopback: the scripts' wake-up request is refused at once, nothing leaves the machine.
    private const string AppUrl = "http://127.0.0.1:9";

    private string Log => Path.Combine(_scratch, "az.log");

    [SkippableFact]
    public void Shell_hook_points_event_grid_at_the_labelling_function_for_new_uploads()
    {
        Skip.If(OperatingSystem.IsWindows(), "The POSIX hook runs under sh.");

        var result = Tool.Run("sh", [Repository.PathOf("scripts/postdeploy.sh")], Repository.Root, HookEnvironment());

        Assert.True(result.ExitCode == 0, result.ToString());
        AssertSubscribedLabellingFunction();
    }

    [SkippableFact]
    public void PowerShell_hook_points_event_grid_at_the_labelling_function_for_new_uploads()
    {
        Skip.If(OperatingSystem.IsWindows(), "The stand-in az is a POSIX script.");
        var pwsh = NuGetCache.File("PowerShell", PowerShellVersion, "tools", "net10.0", "any", "unix", "pwsh.dll");

        var environment = HookEnvironment();
        environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        environment["POWERSHELL_UPDATECHECK"] = "Off";
        var result = Tool.Run(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [pwsh, "-NoProfile", "-NonInteractive", "-File", Repository.PathOf("scripts/postdeploy.ps1")],
            Repository.Root, environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        AssertSubscribedLabellingFunction();
    }

    [SkippableFact]
    public void Shell_hook_names_a_missing_provisioning_output_and_calls_nothing()
    {
        Skip.If(OperatingSystem.IsWindows(), "The POSIX hook runs under sh.");
        var environment = HookEnvironment();
        environment["UPLOADS_EVENTS_TOPIC_NAME"] = "";

        var result = Tool.Run("sh", [Repository.PathOf("scripts/postdeploy.sh")], Repository.Root, environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("UPLOADS_EVENTS_TOPIC_NAME is not set", result.Errors);
        Assert.False(File.Exists(Log), "az was called");
    }

    private void AssertSubscribedLabellingFunction()
    {
        var calls = AzCalls();
        var keys = Assert.Single(calls, call => call.Take(3).SequenceEqual(["functionapp", "keys", "list"]));
        Assert.Equal("func-flowers-test", Option(keys, "--name"));
        Assert.Equal("rg-flowers-test", Option(keys, "--resource-group"));
        Assert.Equal("systemKeys.blobs_extension", Option(keys, "--query"));

        var subscribe = Assert.Single(calls, call => call.Take(4).SequenceEqual(["eventgrid", "system-topic", "event-subscription", "create"]));
        var uploads = Output("UPLOADS_CONTAINER_NAME");
        Assert.Equal(
            $"{AppUrl}/runtime/webhooks/blobs?functionName=Host.Functions.{FunctionNames.Labelling}&code={BlobsKey}",
            Option(subscribe, "--endpoint"));
        Assert.Equal("webhook", Option(subscribe, "--endpoint-type"));
        Assert.Equal("evgt-flowers-test", Option(subscribe, "--system-topic-name"));
        Assert.Equal("Microsoft.Storage.BlobCreated", Option(subscribe, "--included-event-types"));
        Assert.Equal($"/blobServices/default/containers/{uploads}/", Option(subscribe, "--subject-begins-with"));
        Assert.Equal("00000000-0000-0000-0000-000000000000", Option(subscribe, "--subscription"));
        Assert.Equal("rg-flowers-test", Option(subscribe, "--resource-group"));
    }

    private Dictionary<string, string?> HookEnvironment() => new()
    {
        ["PATH"] = Path.Combine(_scratch, "bin") + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        ["FAKE_AZ_LOG"] = Log,
        ["FAKE_BLOBS_KEY"] = BlobsKey,
        ["AZURE_SUBSCRIPTION_ID"] = "00000000-0000-0000-0000-000000000000",
        ["AZURE_RESOURCE_GROUP"] = "rg-flowers-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-flowers-test",
        ["AZURE_FUNCTION_APP_URL"] = AppUrl,
        ["UPLOADS_EVENTS_TOPIC_NAME"] = "evgt-flowers-test",
        // As provisioned: these two are literals in main.bicep.
        ["UPLOADS_CONTAINER_NAME"] = Output("UPLOADS_CONTAINER_NAME"),
        ["LABELLING_FUNCTION_NAME"] = Output("LABELLING_FUNCTION_NAME"),
    };

    private string Output(string name) => ArmTemplate.Text(_infra.Main.Output(name))!;

    private List<List<string>> AzCalls()
    {
        Assert.True(File.Exists(Log), "az was never called");
        var calls = new List<List<string>> { new() };
        foreach (var line in File.ReadAllLines(Log))
            if (line == "--end--") calls.Add([]);
            else calls[^1].Add(line);
        return calls.Where(call => call.Count > 0).ToList();
    }

    private static string? Option(List<string> call, string name)
    {
        var at = call.IndexOf(name);
        return at >= 0 && at + 1 < call.Count ? call[at + 1] : null;
    }

    private void WriteExecutable(string relativePath, string text)
    {
        var path = Path.Combine(_scratch, relativePath);
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
