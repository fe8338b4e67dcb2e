using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>Official C# SDK clients pointed at the gateway.</summary>
internal static class Clients
{
    /// <summary>
    /// A client of the session era (2025-11-25: initialize, Mcp-Session-Id, server-to-client requests on the call's
    /// stream), which most tests are about. The SDK's default would prefer 2026-07-28, which the gateway also speaks:
    /// <see cref="ConnectModernAsync"/>.
    /// </summary>
    public static Task<McpClient> ConnectAsync(Uri endpoint, McpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion ??= "2025-11-25";
        return CreateAsync(endpoint, options, cancellationToken);
    }

    /// <summary>A client of the stateless era (2026-07-28), as the SDK makes by default: <c>server/discover</c>, no session.</summary>
    public static Task<McpClient> ConnectModernAsync(Uri endpoint, McpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion = "2026-07-28";
        return CreateAsync(endpoint, options, cancellationToken);
    }

    private static Task<McpClient> CreateAsync(Uri endpoint, McpClientOptions? options, CancellationToken cancellationToken)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            Name = "e2e",
        });
        options ??= new McpClientOptions();
        options.ClientInfo ??= new Implementation { Name = "archestra-e2e", Version = "1.0.0" };
        return McpClient.CreateAsync(transport, options, cancellationToken: cancellationToken);
    }

    /// <summary>The text blocks of a tool result, joined.</summary>
    public static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));
}
