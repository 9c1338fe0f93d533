using System.Net;
using System.Text;

namespace Flowers.Reliability.Tests;

/// <summary>Issue 16's request rules through the real local host: a 400 naming the field, never a 500 or a run.</summary>
[Collection(SaltedRunCollection.Name)]
public sealed class HttpInputRoundTwoTests(BadPhotoRun fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string, string> Requests => new()
    {
        { """{"source": "/"}""", "source" },                                               // was a 500
        { """{"source": "/tmp", "trainerOptions": {"maxIterations": 2147483647}}""", "trainerOptions.maxIterations" },
        { """{"source": "/tmp", "trainer": "lightgbm", "trainerOptions": {"numberOfLeaves": 100000}}""", "trainerOptions.numberOfLeaves" },
        { """{"source": "/tmp", "trainerOptions": {"numberOfIterations": 2147483647}}""", "trainerOptions.numberOfIterations" },
        { """{"source": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/"}""", "source" },   // NAT64 of the metadata address
        { """{"source": "http://[::10.0.0.1]/x.tgz"}""", "source" },
        { """{"source": "http://[2002:a00:1::]/x.tgz"}""", "source" },
        { """{"source": "http://168.63.129.16/x.tgz"}""", "source" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_bad_request_is_a_400_naming_the_field(string body, string field)
    {
        using var http = new HttpClient { BaseAddress = fixture.Run.Host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/training") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-functions-key", LocalHostRun.Key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{(int)response.StatusCode}: {text}");
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(field, text);
    }
}
