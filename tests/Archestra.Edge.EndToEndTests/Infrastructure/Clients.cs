using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>Official C# SDK clients pointed at the gateway.</summary>
internal static class Clients
{
    public static Task<McpClient> ConnectAsync(Uri endpoint, McpClientOptions? options = null, CancellationToken cancellationToken = default)
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
