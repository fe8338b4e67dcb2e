using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Fleet;

/// <summary>
/// The seal on a request one instance forwards to the owner of its session: <c>Archestra-Fleet-Hop:
/// &lt;from&gt;.&lt;unix seconds&gt;.&lt;tag&gt;</c>, the tag an HMAC-SHA256 (under the fleet's hop key) of the sender, the time,
/// the method, the path and the session id. The owner then knows the request was admitted already — the caller's and
/// the profile's rate limits were counted where the balancer sent it — and does not count it twice. A missing, stale
/// (over <see cref="MaxAge"/>) or forged seal makes it an ordinary request, limits included.
/// </summary>
internal static class FleetHop
{
    public const string Header = "Archestra-Fleet-Hop";
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    public static string Seal(FleetNode node, string method, string path, string session, DateTimeOffset now)
    {
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{node.Instance}.{seconds}.{Tag(node.HopKey, node.Instance, seconds, method, path, session)}";
    }

    /// <summary>Whether <paramref name="request"/> carries a valid seal of another instance of the fleet.</summary>
    public static bool IsSealed(FleetNode node, HttpRequest request, DateTimeOffset now)
    {
        if (!node.InFleet || !request.Headers.TryGetValue(Header, out var values) || values.Count != 1)
        {
            return false;
        }

        var parts = values.ToString().Split('.');
        if (parts.Length != 3 || parts[0] == node.Instance
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > MaxAge.TotalSeconds)
        {
            return false;
        }

        var expected = Tag(node.HopKey, parts[0], parts[1], request.Method, request.Path.Value ?? string.Empty, request.Headers[Protocol.Mcp.McpHeaders.SessionId].ToString());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2]));
    }

    private static string Tag(byte[] key, string from, string seconds, string method, string path, string session)
    {
        var text = Encoding.UTF8.GetBytes(string.Join('\n', from, seconds, method, path, session));
        return Base64Url.EncodeToString(HMACSHA256.HashData(key, text).AsSpan(0, 16));
    }
}
