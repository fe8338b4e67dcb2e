using Archestra.Edge.Model;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Where a request goes, the one name (or URI) token to rewrite on the way (the exposed one to the upstream's own),
/// the arguments the config fixes (tools), and the server prefix to put back on URIs in the result (resources/read
/// under prefixed naming).
/// </summary>
internal readonly record struct RelayTarget(UpstreamServer Server, JsonRange NameRange = default, byte[]? UpstreamName = null)
{
    public FixedArguments? Fixed { get; init; }

    /// <summary>What the profile's rules decided about this call (default: no rule applied).</summary>
    public Policies.PolicyVerdict Verdict { get; init; }

    /// <summary>The range of <c>params.arguments</c> in the request (to splice the fixed arguments into).</summary>
    public JsonRange Arguments { get; init; }

    /// <summary>The upstream's name of the tool or prompt (a metrics label); null for resources.</summary>
    public string? ItemName { get; init; }

    /// <summary>
    /// 2026-07-28 retries: the client's <c>requestState</c> (the gateway's sealed one) and what replaces it towards the
    /// server — the server's own state, or nothing (the member is removed) when it gave none.
    /// </summary>
    public JsonRange RequestState { get; init; }

    public byte[]? UpstreamRequestState { get; init; }

    /// <summary>2026-07-28 retries: the approval the client's sealed state was issued for (a digest of the call), if any.</summary>
    public string? Approval { get; init; }

    /// <summary>The user approved this call (its digest): sealed into any later state of the call, so its input rounds are not asked again.</summary>
    public string? Approved { get; init; }

    /// <summary>The retry's <c>inputResponses</c> held only the gateway's approval: the server never sees them.</summary>
    public bool DropInputResponses { get; init; }

    /// <summary>When set, <c>contents[].uri</c> of the result get this server's <c>name+</c> prefix.</summary>
    public string? ResultUriPrefix { get; init; }
}
