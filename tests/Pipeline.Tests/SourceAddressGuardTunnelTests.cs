using System.Net;
using Flowers.Acquire;
using Flowers.LocalHost;

namespace Flowers.Pipeline.Tests;

/// <summary>Issue 16: IPv6 forms that carry a private IPv4 address, Azure's wire server, proxies and redirects.</summary>
public class SourceAddressGuardTunnelTests
{
    [Theory]
    [InlineData("::10.0.0.1", "private (IPv4-compatible of 10.0.0.1)")]
    [InlineData("::127.0.0.1", "loopback (IPv4-compatible of 127.0.0.1)")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local (NAT64 of 169.254.169.254)")]
    [InlineData("64:ff9b::c0a8:0101", "private (NAT64 of 192.168.1.1)")]
    [InlineData("2002:0a00:0001::1", "private (6to4 of 10.0.0.1)")]
    [InlineData("2002:7f00:0001::", "loopback (6to4 of 127.0.0.1)")]
    [InlineData("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private (Teredo of 10.0.0.1)")]   // client 10.0.0.1 stored inverted
    [InlineData("168.63.129.16", "platform (Azure wire server)")]
    [InlineData("::ffff:168.63.129.16", "platform (Azure wire server)")]
    public void An_IPv6_form_of_a_private_IPv4_address_or_the_wire_server_is_not_public(string address, string kind) =>
        Assert.Equal(kind, SourceAddressGuard.NonPublicKind(IPAddress.Parse(address)));

    [Theory]
    [InlineData("64:ff9b::808:808")]                       // NAT64 of 8.8.8.8
    [InlineData("2002:0808:0808::1")]                      // 6to4 of 8.8.8.8
    [InlineData("2001:0:4136:e378:8000:63bf:f7f7:f7f7")]   // Teredo of 8.8.8.8
    [InlineData("2a00:1450:4001:82b::200e")]               // an ordinary public IPv6 address
    [InlineData("168.63.129.17")]
    public void The_same_forms_of_a_public_address_stay_public(string address) =>
        Assert.Null(SourceAddressGuard.NonPublicKind(IPAddress.Parse(address)));

    [Fact]
    public async Task A_request_for_a_NAT64_metadata_address_is_refused_at_once()
    {
        var problem = await SourceAddressGuard.CheckAsync(new Uri("http://[64:ff9b::a9fe:a9fe]/photos.tgz"), allowPrivate: false);
        Assert.Contains("link-local (NAT64 of 169.254.169.254)", problem);
    }

    /// <summary>A real server standing in for a public one (trusted by address and port) redirects to a private
    /// service; the download is refused at the redirect and the private service sees no request.</summary>
    [Fact]
    public async Task A_redirect_to_a_private_address_is_refused()
    {
        await using var inside = new RecordingServer(_ => (200, null, "secret"u8.ToArray()));
        await using var outside = new RecordingServer(path => path == "/photos.tgz" ? (302, inside.Url("admin.tgz"), []) : (404, null, []));
        using var http = SourceAddressGuard.CreateClient(allowPrivate: false, trustedEndpoint: new IPEndPoint(IPAddress.Loopback, outside.Port));
        using var cache = new TestCache();
        var acquirer = new DatasetAcquirer(new AcquireOptions { CacheDirectory = cache.Path, Http = http });

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => acquirer.LocateAsync(outside.Url("photos.tgz").ToString()));

        Assert.Contains("refusing to connect to '127.0.0.1'", error.Message);
        Assert.Equal(["/photos.tgz"], outside.Paths);
        Assert.Empty(inside.Paths);
    }

    /// <summary>Through a proxy (HTTP_PROXY, HTTPS_PROXY) the only address the check sees is the proxy's, which then
    /// fetches any address it is asked for; so the guarded handler uses none. (Checked on the handler: setting
    /// HTTP_PROXY in a test would reach every other test's client in the process.)</summary>
    [Fact]
    public void The_guarded_handler_uses_no_proxy()
    {
        using var handler = SourceAddressGuard.CreateHandler(allowPrivate: false);
        Assert.False(handler.UseProxy);
        Assert.NotNull(handler.ConnectCallback);
    }

    private sealed class TestCache : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("flowers-guard-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>A real HTTP server (HttpListener on 127.0.0.1) that answers from a function and records each path.</summary>
    private sealed class RecordingServer : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public RecordingServer(Func<string, (int Status, Uri? Location, byte[] Body)> answer)
        {
            Port = Loopback.FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch (Exception) { return; }
                    var path = context.Request.Url!.AbsolutePath;
                    lock (Paths) Paths.Add(context.Request.RawUrl!.StartsWith('/') ? path : context.Request.RawUrl!);
                    var (status, location, body) = answer(path);
                    context.Response.StatusCode = status;
                    if (location is not null) context.Response.RedirectLocation = location.ToString();
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
        }

        public int Port { get; }
        public List<string> Paths { get; } = [];
        public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path}");

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try { await _loop; } catch (Exception) { }
        }
    }
}
