namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>
/// JSON-RPC error codes used on the wire. The standard ones come from JSON-RPC 2.0, the MCP ones from the
/// specification and the SDKs, and the gateway's own sit in the implementation-defined -32000..-32099 range.
/// </summary>
public static class JsonRpcErrorCode
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>Generic transport-level rejection (the TypeScript SDK uses it for "Bad Request" bodies).</summary>
    public const int ServerError = -32000;

    /// <summary>A request did not complete in time (same value as the SDKs' <c>RequestTimeout</c>). Also "session not found".</summary>
    public const int RequestTimeout = -32001;

    /// <summary>MCP: resource not found (up to 2025-11-25).</summary>
    public const int ResourceNotFound = -32002;

    /// <summary>MCP (2026-07-28): an <c>Mcp-*</c> header disagrees with the body (or is missing).</summary>
    public const int HeaderMismatch = -32020;

    /// <summary>MCP (2026-07-28): the request needs a client capability the client did not declare.</summary>
    public const int MissingRequiredClientCapability = -32021;

    /// <summary>MCP (2026-07-28, SEP-2575): the declared protocol version is not supported; data lists the supported ones.</summary>
    public const int UnsupportedProtocolVersion = -32022;

    /// <summary>2025-11-25: the request needs the user to visit a URL first (URLElicitationRequiredError); <c>data.elicitations</c> names it.</summary>
    public const int UrlElicitationRequired = -32042;

    /// <summary>Gateway: the upstream server could not be reached or started.</summary>
    public const int UpstreamUnavailable = -32010;

    /// <summary>Gateway: the upstream failed while handling the request (crashed, broke the protocol, ended the stream).</summary>
    public const int UpstreamFailed = -32011;

    /// <summary>Gateway: too many sessions or calls; retry later.</summary>
    public const int Overloaded = -32012;
}
