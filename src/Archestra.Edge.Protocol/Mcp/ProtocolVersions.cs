namespace Archestra.Edge.Protocol.Mcp;

/// <summary>MCP protocol revisions the gateway speaks.</summary>
public static class ProtocolVersions
{
    public const string V20241105 = "2024-11-05";
    public const string V20250326 = "2025-03-26";
    public const string V20250618 = "2025-06-18";
    public const string V20251125 = "2025-11-25";

    /// <summary>The stateless era: no initialize, no sessions; everything a request needs travels in its <c>_meta</c>.</summary>
    public const string V20260728 = "2026-07-28";

    /// <summary>Every revision served downstream, newest first, as <c>server/discover</c> lists them.</summary>
    public static readonly IReadOnlyList<string> Supported = [V20260728, V20251125, V20250618, V20250326];

    /// <summary>Whether a request (by its header or its <c>_meta</c>) is of the stateless era.</summary>
    public static bool IsModern(ReadOnlySpan<char> version) => version.SequenceEqual(V20260728);

    public static bool IsModern(ReadOnlySpan<byte> utf8Version) => utf8Version.SequenceEqual("2026-07-28"u8);

    /// <summary>The newest revision; offered when a client asks for one we do not speak.</summary>
    public const string Latest = V20251125;

    /// <summary>Revisions served downstream with sessions (Streamable HTTP, stateful), newest first.</summary>
    public static readonly IReadOnlyList<string> Downstream = [V20251125, V20250618, V20250326];

    /// <summary>Revisions accepted from upstream servers, newest first.</summary>
    public static readonly IReadOnlyList<string> Upstream = [V20251125, V20250618, V20250326, V20241105];

    /// <summary>Returns the interned constant for a supported downstream revision, or null.</summary>
    public static string? MatchDownstream(ReadOnlySpan<char> version)
    {
        if (version.SequenceEqual(V20251125))
        {
            return V20251125;
        }

        if (version.SequenceEqual(V20250618))
        {
            return V20250618;
        }

        return version.SequenceEqual(V20250326) ? V20250326 : null;
    }

    /// <summary>Returns the interned constant for a revision an upstream may answer with, or null.</summary>
    public static string? MatchUpstream(ReadOnlySpan<char> version)
        => MatchDownstream(version) ?? (version.SequenceEqual(V20241105) ? V20241105 : null);

    /// <summary>Batches were part of 2025-03-26 only.</summary>
    public static bool AllowsBatches(string version) => ReferenceEquals(version, V20250326) || version == V20250326;

    /// <summary>Whether <paramref name="version"/> is at least <paramref name="minimum"/> (dates compare as strings).</summary>
    public static bool IsAtLeast(string version, string minimum) => string.CompareOrdinal(version, minimum) >= 0;
}
