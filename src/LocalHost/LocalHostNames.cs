using Flowers.Api;
using Microsoft.AspNetCore.Http;

namespace Flowers.LocalHost;

/// <summary>
/// The names the local host answers to. A web page the user visits can send requests to 127.0.0.1, and a host name
/// of its own that resolves there (DNS rebinding) lets it read the answers; the browser then still sends the page's
/// host name and origin, which only this host's own names pass.
/// </summary>
public static class LocalHostNames
{
    private static readonly string[] Loopback = ["127.0.0.1", "localhost", "[::1]"];

    /// <summary>Loopback names, and the listen URL's host when it names one (not a wildcard such as 0.0.0.0).</summary>
    public static IReadOnlySet<string> For(string listenUrl)
    {
        var names = new HashSet<string>(Loopback, StringComparer.OrdinalIgnoreCase);
        if (Uri.TryCreate(listenUrl.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"), UriKind.Absolute, out var url)
            && url.Host is not ("0.0.0.0" or "[::]"))
            names.Add(url.Host);
        return names;
    }

    /// <summary>Why <paramref name="request"/> is refused (400 for a foreign Host, 403 for a foreign Origin), or null.</summary>
    public static ApiAnswer? Refusal(HttpRequest request, IReadOnlySet<string> names)
    {
        if (!names.Contains(request.Host.Host))
            return ApiAnswer.Error(StatusCodes.Status400BadRequest,
                $"this host answers to {string.Join(", ", names.Order(StringComparer.Ordinal))}, not to the host name '{request.Host.Host}'");
        var origin = request.Headers.Origin.FirstOrDefault();
        if (origin is not null && !(Uri.TryCreate(origin, UriKind.Absolute, out var from) && from.Scheme is "http" or "https" && names.Contains(from.Host)))
            return ApiAnswer.Error(StatusCodes.Status403Forbidden, $"requests from web pages of other origins are refused (Origin '{origin}')");
        return null;
    }
}
