using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Byte-level relay against an upstream whose bytes the test scripts: unknown fields, pretty-printed JSON
/// answers, upstream session ids, and the recovery of an upstream session that ended.
/// </summary>
public sealed class PassthroughTests(PassthroughTests.Fixture fixture) : IClassFixture<PassthroughTests.Fixture>
{
    private readonly CannedUpstream _upstream = fixture.Upstream;
    private readonly GatewayProcess _gateway = fixture.Gateway;

    /// <summary>One gateway for the class: its tests run one after another against it, as clients of one running service do.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal CannedUpstream Upstream { get; private set; } = null!;

        internal GatewayProcess Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await CannedUpstream.StartAsync();
            Gateway = await GatewayProcess.StartAsync($$"""
                servers:
                  canned:
                    remote:
                      url: "{{Upstream.Url}}"
                      headers: { X-Api-Key: "${env:HOME}" }
                profiles:
                  p:
                    tools: [{ server: canned }]
                """);
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task UnknownFieldsAndNumbers_PassUntouched()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":"list-1","method":"tools/list"}""");
        var text = await response.Content.ReadAsStringAsync();

        // The item is relayed exactly as the upstream wrote it (whitespace and number spelling included), renamed only.
        var upstreamItem = ExtractItem(CannedUpstream.ToolsListResult);
        Assert.Contains(upstreamItem.Replace("\"name\": \"canned\"", "\"name\": \"canned__canned\"", StringComparison.Ordinal), text, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"list-1\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallAnswer_IsTheUpstreamsBytes_WithTheClientsId()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"canned__canned","arguments":{"q":"1.50e3 stays","n":1.50}}}""");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("{\n  \"jsonrpc\": \"2.0\",\n  \"id\": \"call-7\",", text, StringComparison.Ordinal);
        Assert.Contains("\"_meta\": { \"io.example/trace\": \"abc\" }", text, StringComparison.Ordinal);
        Assert.Contains("{\"q\":\"1.50e3 stays\",\"n\":1.50}", text, StringComparison.Ordinal);

        // Upstream saw the gateway's numeric id and the upstream's own tool name; the configured header; its own session.
        var call = _upstream.Requests.Last(r => r.Method == "tools/call");
        var sent = JsonNode.Parse(call.Body)!;
        Assert.Equal("canned", sent["params"]!["name"]!.GetValue<string>());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, sent["id"]!.GetValueKind());
        Assert.Equal(Environment.GetEnvironmentVariable("HOME"), call.Headers["X-Api-Key"]);
        Assert.Equal(_upstream.CurrentSession, call.Session);
        Assert.Equal("2025-06-18", call.Headers["MCP-Protocol-Version"]);
        Assert.Contains("\"arguments\":{\"q\":\"1.50e3 stays\",\"n\":1.50}", call.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndedUpstreamSession_IsReopenedTransparently()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var first = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"canned__canned","arguments":{}}}""");
        var before = _upstream.Initializations;

        _upstream.EndSession();
        var second = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"canned__canned","arguments":{}}}""");

        Assert.Equal(before + 1, _upstream.Initializations);
        Assert.NotEqual(first["result"]!["structuredContent"]!["session"]!.GetValue<string>(), second["result"]!["structuredContent"]!["session"]!.GetValue<string>());
        Assert.Null(second["error"]);
    }

    private static string ExtractItem(string list)
    {
        var start = list.IndexOf("{\n      \"name\"", StringComparison.Ordinal);
        var end = list.LastIndexOf("\n    }", StringComparison.Ordinal) + "\n    }".Length;
        return list[start..end];
    }
}
