using System.Net;
using System.Text;

namespace Flowers.Reliability.Tests;

/// <summary>
/// Bad requests through the real local host. The request reader's every rule is in
/// tests/Pipeline.Tests/TrainingRequestReaderTests and the address guard's in SourceAddressGuardTests; this checks
/// the HTTP layer turns them into a 400 naming the field (and a 401 without the key), never a 500 or a scheduled run.
/// </summary>
[Collection(SaltedRunCollection.Name)]
public sealed class HttpInputTests(BadPhotoRun fixture)
{
    // Range checks use a local folder as source: example.com does not resolve here, and the source is checked first.
    private const string Folder = "/tmp";

    public static TheoryData<string, string?, HttpStatusCode, string> Requests => new()
    {
        { "{\"source\": ", LocalHostRun.Key, HttpStatusCode.BadRequest, "body" },
        { "not json at all", LocalHostRun.Key, HttpStatusCode.BadRequest, "body" },
        { "{\"source\": \"https://example.com/x.tgz\", \"colour\": \"red\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "colour" },
        { "{\"source\": \"" + Folder + "\", \"testFraction\": 7}", LocalHostRun.Key, HttpStatusCode.BadRequest, "testFraction" },
        { "{\"source\": \"" + Folder + "\", \"seed\": 1e30}", LocalHostRun.Key, HttpStatusCode.BadRequest, "seed" },
        { "{\"source\": \"" + Folder + "\", \"shardSize\": -5}", LocalHostRun.Key, HttpStatusCode.BadRequest, "shardSize" },
        { "{\"source\": \"gopher://example.com/x.tgz\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"http://127.0.0.1:9/x.tgz\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"http://[::1]/x.tgz\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"http://10.1.2.3/x.tgz\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"http://192.168.0.10/x.tgz\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"http://169.254.169.254/latest/meta-data/\"}", LocalHostRun.Key, HttpStatusCode.BadRequest, "source" },
        { "{\"source\": \"https://example.com/x.tgz\"}", null, HttpStatusCode.Unauthorized, "" },
        { "{\"source\": \"https://example.com/x.tgz\"}", "wrong-key", HttpStatusCode.Unauthorized, "" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_bad_request_is_refused_naming_the_field(string body, string? key, HttpStatusCode expected, string field)
    {
        using var http = new HttpClient { BaseAddress = fixture.Run.Host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/training") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Add("x-functions-key", key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(field, text);
    }
}
