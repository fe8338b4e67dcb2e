using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Fleet;

/// <summary>Which instance a request's session belongs to, when it is not this one.</summary>
internal static class SessionOwner
{
    /// <summary>The owner of the request's <c>Mcp-Session-Id</c> when it is another live or dead instance of the fleet; null for this instance's sessions, alone, or without a session.</summary>
    public static string? OtherOwner(HttpRequest request, Gateway.GatewayRuntime runtime)
    {
        if (!runtime.Fleet.InFleet)
        {
            return null;
        }

        var header = request.Headers[Protocol.Mcp.McpHeaders.SessionId];
        return header.Count == 1 && runtime.Sessions.Ids.TryGetOtherOwner(header[0], out var owner) ? owner : null;
    }
}
