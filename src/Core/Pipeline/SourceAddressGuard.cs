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

    /// <summary>Azure's platform endpoint (wire server: DHCP, DNS, the VM agent); reachable from inside every Azure VM.</summary>
    private static readonly IPAddress AzureWireServer = IPAddress.Parse("168.63.129.16");

    /// <summary>"loopback", "private", "link-local"... for an address that is not on the public internet; null if it is.
    /// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by that address,
    /// since a gateway may deliver them to it.</summary>
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
            if (EmbeddedIPv4(address) is var (form, v4))
                return NonPublicKind(v4) is { } kind ? $"{kind} ({form} of {v4})" : null;
            return null;
        }
        if (address.Equals(AzureWireServer)) return "platform (Azure wire server)";
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

    /// <summary>The IPv4 address inside an IPv6 one that tunnels or translates to it, with the form's name.</summary>
    private static (string Form, IPAddress Address)? EmbeddedIPv4(IPAddress v6)
    {
        var b = v6.GetAddressBytes();
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
            return ("IPv4-compatible", new IPAddress(b[12..16]));   // ::a.b.c.d (deprecated, still routed by some stacks)
        if (b.AsSpan(0, 12).SequenceEqual((ReadOnlySpan<byte>)[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]))
            return ("NAT64", new IPAddress(b[12..16]));              // 64:ff9b::/96, the well-known NAT64 prefix
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
            return ("local NAT64", new IPAddress(b[12..16]));        // 64:ff9b:1::/48; our guess of where the v4 sits
        if (b[0] == 0x20 && b[1] == 0x02)
            return ("6to4", new IPAddress(b[2..6]));                 // 2002:aabb:ccdd::/48
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
            return ("Teredo", new IPAddress(b[12..16].Select(x => (byte)~x).ToArray()));   // 2001::/32, client address inverted
        return null;
    }

    /// <summary>An HttpClient that refuses to connect to non-public addresses (unless allowed), whatever the
    /// URL or redirect says. It uses no proxy (HTTP(S)_PROXY is ignored): through a proxy the connection is to the
    /// proxy, so the check would never see the address the proxy then fetches.</summary>
    /// <param name="trustedEndpoint">Tests only: the one address and port allowed even when not public (a local
    /// server standing in for a public one), so that what it redirects to is still checked.</param>
    public static HttpClient CreateClient(bool allowPrivate, TimeSpan? timeout = null, IPEndPoint? trustedEndpoint = null) =>
        new(CreateHandler(allowPrivate, trustedEndpoint)) { Timeout = timeout ?? TimeSpan.FromMinutes(10) };

    /// <summary>The handler of <see cref="CreateClient"/>: every connection it makes goes through the check.</summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivate, IPEndPoint? trustedEndpoint = null)
    {
        return new SocketsHttpHandler
        {
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxAutomaticRedirections = 5,
            ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host;
                var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
                var allowed = allowPrivate ? addresses
                    : addresses.Where(a => NonPublicKind(a) is null || new IPEndPoint(a, context.DnsEndPoint.Port).Equals(trustedEndpoint)).ToArray();
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
    }
}
