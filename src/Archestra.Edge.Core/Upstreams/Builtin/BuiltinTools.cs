namespace Archestra.Edge.Upstreams.Builtin;

/// <summary>The tool definitions of the embedded <c>archestra</c> server.</summary>
internal static class BuiltinTools
{
    public static ReadOnlySpan<byte> ListServers => "list_servers"u8;

    public static ReadOnlySpan<byte> WhoAmI => "whoami"u8;

    public static ReadOnlySpan<byte> GatewayInfo => "gateway_info"u8;

    /// <summary>The <c>tools/list</c> result, written once.</summary>
    public static ReadOnlySpan<byte> ListResult => """
        {"tools":[
        {"name":"list_servers","title":"List servers","description":"Lists the MCP servers behind this profile with their state (stopped, starting, ready, failed), process or session identity, start count and last error.","inputSchema":{"type":"object","properties":{},"additionalProperties":false},"outputSchema":{"type":"object","properties":{"profile":{"type":"string"},"servers":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"kind":{"type":"string"},"state":{"type":"string","enum":["stopped","starting","ready","failed"]},"identity":{"type":"string"},"serverInfo":{"type":"string"},"readySince":{"type":"string"},"starts":{"type":"integer"},"lastError":{"type":"string"}},"required":["name","kind","state","starts"]}}},"required":["profile","servers"]},"annotations":{"title":"List servers","readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}},
        {"name":"whoami","title":"Who am I","description":"Shows who the gateway believes is calling: the principal, the profile, the client and the negotiated protocol version.","inputSchema":{"type":"object","properties":{},"additionalProperties":false},"outputSchema":{"type":"object","properties":{"principal":{"type":"string"},"authenticated":{"type":"boolean"},"note":{"type":"string"},"profile":{"type":"string"},"clientName":{"type":"string"},"clientVersion":{"type":"string"},"protocolVersion":{"type":"string"}},"required":["principal","authenticated","profile","protocolVersion"]},"annotations":{"title":"Who am I","readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}},
        {"name":"gateway_info","title":"Gateway info","description":"Shows the gateway's name, version, start time, uptime and the protocol versions it speaks.","inputSchema":{"type":"object","properties":{},"additionalProperties":false},"outputSchema":{"type":"object","properties":{"name":{"type":"string"},"version":{"type":"string"},"startedAt":{"type":"string"},"uptimeSeconds":{"type":"number"},"profile":{"type":"string"},"protocolVersions":{"type":"array","items":{"type":"string"}}},"required":["name","version","startedAt","uptimeSeconds"]},"annotations":{"title":"Gateway info","readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}}
        ]}
        """u8;
}
