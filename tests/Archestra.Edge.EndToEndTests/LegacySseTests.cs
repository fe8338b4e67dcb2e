using System.Net;
using System.Net.Sockets;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Upstreams on the legacy HTTP+SSE transport (2024-11-05), served to clients over Streamable HTTP.</summary>
public sealed class LegacySseTests
{
    [Fact]
    public async Task CSharpSdkServer_OverLegacySse_ToolsProgressAndSamplingWork()
    {
        await using var upstream = await TestServerProcess.StartHttpAsync("legacy", "--legacy-sse");
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              legacy:
                remote: { url: "{{upstream.Url}}/sse", transport: sse }
            profiles:
              p: { tools: [{ server: legacy, include: [identify, echo, progress, sample] }] }
            """);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Role = Role.Assistant,
                    Model = "m",
                    Content = [new TextContentBlock { Text = "through two transports" }],
                }),
            },
        };
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"), options);

        Assert.Equal(["legacy__echo", "legacy__identify", "legacy__progress", "legacy__sample"], (await client.ListToolsAsync()).Select(t => t.Name).ToArray());
        Assert.Equal("legacy", Clients.Text(await client.CallToolAsync("legacy__identify")));
        Assert.Equal("ünïcode ☕", Clients.Text(await client.CallToolAsync("legacy__echo", new Dictionary<string, object?> { ["text"] = "ünïcode ☕" })));

        var progress = new ProgressCollector();
        var done = await client.CallToolAsync("legacy__progress", new Dictionary<string, object?> { ["steps"] = 3 }, progress);
        Assert.Equal("done in 3 steps", Clients.Text(done));
        ProgressOnTheWire.AssertReceivedThroughTheSdk(progress.Received());

        await ProgressOnTheWire.AssertInOrderAsync(gateway.ProfileUrl("p"), "legacy__progress");

        Assert.Equal("LLM response: through two transports", Clients.Text(await client.CallToolAsync("legacy__sample", new Dictionary<string, object?> { ["prompt"] = "hi" })));
    }

    [Fact]
    public async Task ServerEverything_OverLegacySse_IsListedAndCalled()
    {
        var port = FreePort();
        var everything = Path.Combine(Repository.NpmPackage("@modelcontextprotocol/server-everything"), "dist", "index.js");
        await using var upstream = ChildProcess.Start(Repository.Node, [everything, "sse"], environment: new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await upstream.WaitForLineAsync(l => l.Contains("running on port", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              everything:
                remote: { url: "http://127.0.0.1:{{port}}/sse", transport: sse }
            profiles:
              p:
                tools: [{ server: everything, include: [echo, get-sum] }]
                prompts: [{ server: everything }]
            """);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

        Assert.Equal(["everything__echo", "everything__get-sum"], (await client.ListToolsAsync()).Select(t => t.Name).ToArray());
        Assert.Contains("over legacy sse", Clients.Text(await client.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = "over legacy sse" })));
        Assert.Contains("42", Clients.Text(await client.CallToolAsync("everything__get-sum", new Dictionary<string, object?> { ["a"] = 40, ["b"] = 2 })));
        Assert.Contains(await client.ListPromptsAsync(), p => p.Name == "everything__simple-prompt");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
