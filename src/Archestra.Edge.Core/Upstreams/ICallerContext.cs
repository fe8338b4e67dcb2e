namespace Archestra.Edge.Upstreams;

/// <summary>Who a call is made for: what an embedded server may know of its caller.</summary>
internal interface ICallerContext
{
    string ProfileName { get; }

    string SessionId { get; }

    string ProtocolVersion { get; }

    string? ClientName { get; }

    string? ClientVersion { get; }

    /// <summary>The principal the caller authenticated as; "anonymous" when the profile has no authentication.</summary>
    string Principal { get; }

    /// <summary>False when the gateway authenticates nobody (no <c>auth:</c>): every caller is then the organisation, unproven.</summary>
    bool Authenticated { get; }

    /// <summary>
    /// For a 2026-07-28 server: the <c>_meta</c> members (protocol version, client capabilities, client info, log level)
    /// that stand for this caller's session in each request, ending with a comma. Empty for a 2026-07-28 caller, whose
    /// requests carry their own.
    /// </summary>
    ReadOnlyMemory<byte> ModernMeta { get; }

    /// <summary>A 2026-07-28 caller's <c>Mcp-Param-*</c> headers, forwarded untouched to 2026-07-28 servers; null when none.</summary>
    IReadOnlyList<KeyValuePair<string, string>>? ForwardedHeaders { get; }
}
