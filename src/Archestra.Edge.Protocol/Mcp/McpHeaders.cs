namespace Archestra.Edge.Protocol.Mcp;

/// <summary>HTTP header names of the Streamable HTTP transport.</summary>
public static class McpHeaders
{
    public const string SessionId = "Mcp-Session-Id";
    public const string ProtocolVersion = "MCP-Protocol-Version";
    public const string LastEventId = "Last-Event-ID";

    /// <summary>2026-07-28: the request's method, on every POST.</summary>
    public const string Method = "Mcp-Method";

    /// <summary>2026-07-28: the tool or prompt name, or the resource URI, of <c>tools/call</c>, <c>prompts/get</c>, <c>resources/read</c>.</summary>
    public const string Name = "Mcp-Name";

    /// <summary>2026-07-28: the prefix of headers that mirror tool arguments; forwarded untouched.</summary>
    public const string ParamPrefix = "Mcp-Param-";
}
