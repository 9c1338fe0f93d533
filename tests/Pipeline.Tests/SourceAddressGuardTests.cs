using System.Net;
using Flowers.LocalHost;

namespace Flowers.Pipeline.Tests;

/// <summary>The download client itself refuses private addresses, whatever a request or a redirect says.</summary>
public class SourceAddressGuardTests
{
    [Fact]
    public async Task The_guarded_client_refuses_loopback_and_connects_when_allowed()
    {
        using var listener = new HttpListener();
        var port = Loopback.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serving = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.StatusCode = 200;
            await context.Response.OutputStream.WriteAsync("ok"u8.ToArray());
            context.Response.Close();
        });

        using (var strict = SourceAddressGuard.CreateClient(allowPrivate: false))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetStringAsync($"http://127.0.0.1:{port}/x"));
            Assert.Contains("non-public", refused.ToString());
        }
        using var allowing = SourceAddressGuard.CreateClient(allowPrivate: true);
        Assert.Equal("ok", await allowing.GetStringAsync($"http://127.0.0.1:{port}/x"));
        await serving;
    }
}
