using System.Diagnostics;
using System.Net;
using System.Text;
using Flowers.LocalHost;
using Flowers.Testing;

namespace Flowers.Reliability.Tests;

/// <summary>
/// The local host as a web page the user visits or another clone sees it: the key is each clone's own, a request
/// must be JSON, name this host and come from no other origin, and local sources stay below the allowed folders.
/// </summary>
[Collection(SaltedRunCollection.Name)]
public sealed class LocalHostExposureTests(BadPhotoRun fixture)
{
    [Fact]
    public void The_function_key_is_not_in_the_repository_and_its_folder_is_ignored()
    {
        var root = TestRepository.Root;
        if (Directory.Exists(Path.Combine(root, ".git")) || File.Exists(Path.Combine(root, ".git")))
        {
            Assert.Equal("", Git(root, "ls-files", "--", ".flowers"));
            Assert.Equal(".flowers/function.key", Git(root, "check-ignore", ".flowers/function.key"));
        }
        else Assert.Contains(".flowers/", File.ReadAllLines(Path.Combine(root, ".gitignore")));
    }

    [Fact]
    public void An_empty_or_blank_key_is_refused_rather_than_matching_an_empty_code()
    {
        var repository = Directory.CreateTempSubdirectory("flowers-key-").FullName;
        var saved = Environment.GetEnvironmentVariable(FunctionKey.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(FunctionKey.EnvironmentVariable, null);
            var generated = FunctionKey.LoadOrCreate(repository);
            Assert.True(generated.Length >= 40, generated);
            Assert.NotEqual(generated, FunctionKey.LoadOrCreate(Directory.CreateTempSubdirectory("flowers-key-").FullName)); // each clone its own

            File.WriteAllText(FunctionKey.PathIn(repository), " \n");
            var empty = Assert.Throws<InvalidOperationException>(() => FunctionKey.LoadOrCreate(repository));
            Assert.Contains($"The function key file {FunctionKey.PathIn(repository)} is empty", empty.Message);

            Environment.SetEnvironmentVariable(FunctionKey.EnvironmentVariable, "   ");
            Assert.Contains("holds only white space", Assert.Throws<InvalidOperationException>(() => FunctionKey.LoadOrCreate(repository)).Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FunctionKey.EnvironmentVariable, saved);
            Directory.Delete(repository, recursive: true);
        }
    }

    public static TheoryData<string, string?, string?, HttpStatusCode, string> Requests => new()
    {
        // A page's form or fetch without preflight: text/plain or a form, never JSON.
        { "text/plain", null, null, HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json, not 'text/plain" },
        { "application/x-www-form-urlencoded", null, null, HttpStatusCode.UnsupportedMediaType, "not 'application/x-www-form-urlencoded" },
        // DNS rebinding: the page's own host name, resolved to 127.0.0.1.
        { "application/json", "rebind.attacker.example", null, HttpStatusCode.BadRequest, "not to the host name 'rebind.attacker.example'" },
        { "application/json", null, "https://attacker.example", HttpStatusCode.Forbidden, "Origin 'https://attacker.example'" },
        { "application/json", null, "null", HttpStatusCode.Forbidden, "Origin 'null'" },
        // The host's own origin passes on to the request's own checks.
        { "application/json", null, "http://127.0.0.1", HttpStatusCode.BadRequest, "testFraction" },
        { "application/json", "localhost", null, HttpStatusCode.BadRequest, "testFraction" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_request_a_web_page_could_send_is_refused(string contentType, string? host, string? origin, HttpStatusCode expected, string error)
    {
        using var http = new HttpClient { BaseAddress = fixture.Run.Host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/training")
        {
            Content = new StringContent("""{ "source": "/tmp", "testFraction": 7 }""", Encoding.UTF8, contentType),
        };
        request.Headers.Add("x-functions-key", LocalHostRun.Key);
        if (host is not null) request.Headers.Host = $"{host}:{fixture.Run.Host.BaseAddress.Port}";
        if (origin is not null) request.Headers.Add("Origin", origin);
        using var response = await http.SendAsync(request);
        var text = ErrorOf(await response.Content.ReadAsStringAsync());
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(error, text);
    }

    [Fact]
    public async Task A_local_source_outside_the_allowed_folders_is_refused_at_once()
    {
        var outside = Directory.CreateTempSubdirectory("flowers-outside-").FullName;
        var allowed = Directory.CreateTempSubdirectory("flowers-allowed-").FullName;
        try
        {
            var settings = new Pipeline.TrainingSettings { AllowLocalSources = true, LocalSourceRoots = allowed };
            Directory.CreateSymbolicLink(Path.Combine(allowed, "photos"), outside);
            Assert.Null(Pipeline.LocalSources.Problem(allowed, settings));
            Assert.Contains("is outside the folders this host reads data sets from", Pipeline.LocalSources.Problem("/etc", settings));
            Assert.Contains($"(really {outside})", Pipeline.LocalSources.Problem(Path.Combine(allowed, "photos"), settings));
            Assert.Contains("is outside", Pipeline.LocalSources.Problem(Path.Combine(allowed, "..", Path.GetFileName(outside)), settings));
            Assert.Contains("which this host does not allow", Pipeline.LocalSources.Problem(allowed, new Pipeline.TrainingSettings()));

            // Through the host: /etc exists but lies outside its folders (home, temp).
            using var http = new HttpClient { BaseAddress = fixture.Run.Host.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/training") { Content = new StringContent("""{ "source": "/etc" }""", Encoding.UTF8, "application/json") };
            request.Headers.Add("x-functions-key", LocalHostRun.Key);
            using var response = await http.SendAsync(request);
            var text = ErrorOf(await response.Content.ReadAsStringAsync());
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
            Assert.Contains("source: '/etc' is outside the folders this host reads data sets from", text);
        }
        finally
        {
            Directory.Delete(allowed, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }

    private static string ErrorOf(string body) => System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;

    private static string Git(string root, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return output.Trim();
    }
}
