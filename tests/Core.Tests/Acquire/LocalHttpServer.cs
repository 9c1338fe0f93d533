using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flowers.Tests.Acquire;

/// <summary>
/// A small but real HTTP/1.1 server on 127.0.0.1 (one request per connection) that serves byte arrays, answers
/// Range and If-Range, and can be told to break off a response after some bytes, as a failing server does.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Served> _files = new();
    private readonly Task _loop;

    public LocalHttpServer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public sealed record Request(string Path, string? Range, string? IfRange);

    private sealed record Served(byte[] Content, string ETag) { public int? BreakAfterBytes; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path.TrimStart('/')}");

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/>; the ETag changes with the content.</summary>
    public Uri Serve(string path, byte[] content, int? breakAfterBytes = null)
    {
        var etag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content))[..16]}\"";
        _files["/" + path.TrimStart('/')] = new Served(content, etag) { BreakAfterBytes = breakAfterBytes };
        return Url(path);
    }

    /// <summary>The next response for <paramref name="path"/> stops after this many body bytes (then the connection closes).</summary>
    public void BreakNextResponseAfter(string path, int bytes) => _files["/" + path.TrimStart('/')].BreakAfterBytes = bytes;

    public int RequestsFor(string path) => Requests.Count(r => r.Path == "/" + path.TrimStart('/'));

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                var lines = head.Split("\r\n");
                var path = lines[0].Split(' ')[1];
                var headers = lines.Skip(1).Where(l => l.Contains(':'))
                    .ToDictionary(l => l[..l.IndexOf(':')].Trim(), l => l[(l.IndexOf(':') + 1)..].Trim(), StringComparer.OrdinalIgnoreCase);
                var range = headers.GetValueOrDefault("Range");
                var ifRange = headers.GetValueOrDefault("If-Range");
                Requests.Enqueue(new Request(path, range, ifRange));

                if (!_files.TryGetValue(path, out var served))
                {
                    await WriteAsync(stream, "404 Not Found", [], "text/plain", "not here"u8.ToArray());
                    return;
                }
                var content = served.Content;
                var offset = 0;
                var status = "200 OK";
                var extra = new List<string> { $"ETag: {served.ETag}", "Accept-Ranges: bytes" };
                if (range is not null && range.StartsWith("bytes=") && range.EndsWith('-') && (ifRange is null || ifRange == served.ETag))
                {
                    offset = int.Parse(range["bytes=".Length..^1]);
                    if (offset >= content.Length)
                    {
                        await WriteAsync(stream, "416 Range Not Satisfiable", [$"Content-Range: bytes */{content.Length}"], "text/plain", []);
                        return;
                    }
                    status = "206 Partial Content";
                    extra.Add($"Content-Range: bytes {offset}-{content.Length - 1}/{content.Length}");
                }
                var body = content[offset..];
                var breakAfter = served.BreakAfterBytes;
                served.BreakAfterBytes = null;
                await WriteAsync(stream, status, extra, "application/gzip", body, breakAfter);
            }
            catch (IOException) { }   // the client went away
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n')
                break;
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static async Task WriteAsync(NetworkStream stream, string status, IEnumerable<string> headers, string type, byte[] body, int? breakAfter = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n");
        foreach (var h in headers)
            head.Append(h).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        // Breaking off: send only part of the promised body, then close the connection.
        await stream.WriteAsync(body.AsMemory(0, Math.Min(body.Length, breakAfter ?? body.Length)));
        await stream.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on (connections are refused).</summary>
    public static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
