using System.Net;
using System.Net.Sockets;

namespace Flowers.Pipeline;

/// <summary>
/// Server-side request forgery guard for data-set URLs: only http(s), and only public addresses unless
/// private sources are allowed (Training__AllowPrivateSources=true). Checked when a request arrives (for a
/// clear 400) and again on every connection the download makes (DNS may change, redirects may point inward).
/// </summary>
public static class SourceAddressGuard
{
    /// <summary>Why the URL may not be fetched, or null when it may.</summary>
    public static async Task<string?> CheckAsync(Uri url, bool allowPrivate, CancellationToken ct = default)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            return $"'{url}' is not an http(s) URL";
        if (allowPrivate) return null;
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.DnsSafeHost, out var literal)) addresses = [literal];
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, ct); }
            catch (SocketException e) { return $"host '{url.DnsSafeHost}' cannot be resolved ({e.SocketErrorCode})"; }
        }
        foreach (var address in addresses)
            if (NonPublicKind(address) is { } kind)
                return $"'{url.Host}' points at a {kind} address ({address}); set Training__AllowPrivateSources=true to allow it";
        return null;
    }

    /// <summary>"loopback", "private", "link-local"... for an address that is not on the public internet; null if it is.</summary>
    public static string? NonPublicKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return "loopback";
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)) return "unspecified";
            if (address.IsIPv6LinkLocal) return "link-local";
            if (address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal) return "private";
            if (address.IsIPv6Multicast) return "multicast";
            return null;
        }
        var b = address.GetAddressBytes();
        return (b[0], b[1]) switch
        {
            (0, _) => "unspecified",
            (10, _) => "private",
            (100, >= 64 and < 128) => "shared (carrier-grade NAT)",
            (127, _) => "loopback",
            (169, 254) => "link-local",
            (172, >= 16 and < 32) => "private",
            (192, 168) => "private",
            (192, 0) when b[2] == 0 => "reserved",
            (198, 18 or 19) => "benchmarking",
            (>= 224 and < 240, _) => "multicast",
            (>= 240, _) => "reserved",
            _ => null,
        };
    }

    /// <summary>An HttpClient that refuses to connect to non-public addresses (unless allowed), whatever the
    /// URL or redirect says.</summary>
    public static HttpClient CreateClient(bool allowPrivate, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            MaxAutomaticRedirections = 5,
            ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host;
                var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
                var allowed = allowPrivate ? addresses : addresses.Where(a => NonPublicKind(a) is null).ToArray();
                if (allowed.Length == 0)
                    throw new HttpRequestException($"refusing to connect to '{host}': it resolves only to non-public addresses ({string.Join(", ", addresses.Select(a => a.ToString()))})");
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromMinutes(10) };
    }
}
