using System.Security.Cryptography;
using System.Text;

namespace Flowers.Storage;

/// <summary>
/// The name of a set of photos in storage (a pack, a feature shard): SHA-256 over an optional scope line and the
/// photos' distinct content hashes in ordinal order, one a line; the first 32 hex digits. The same photos always
/// get the same key, so work already stored under it is found again.
/// </summary>
public static class ContentKey
{
    public static string Of(IEnumerable<string> contentHashes, string? scope = null)
    {
        var text = new StringBuilder();
        if (scope is not null) text.Append(scope).Append('\n');
        foreach (var hash in contentHashes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)) text.Append(hash).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }
}
