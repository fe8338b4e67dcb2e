using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>CORS for MCP clients in a browser page: allowed origins may use the endpoint and read the session id; others are kept out.</summary>
public sealed class BrowserAccessTests(BrowserAccessTests.Fixture fixture) : IClassFixture<BrowserAccessTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => """
            server:
              allowed_origins: [https://agents.example.com]
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            """);

    [Theory]
    [InlineData("https://agents.example.com")] // listed in allowed_origins
    [InlineData("http://localhost:6274")]      // a page on an allowed host (an inspector on this machine)
    public async Task Preflight_FromAnAllowedOrigin_IsAnswered_AndTheAnswerIsReadable(string origin)
    {
        using var http = new HttpClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, _gateway.ProfileUrl("p"));
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type, mcp-protocol-version, authorization");
        using var answer = await http.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(origin, Header(answer, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(answer, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("DELETE", Header(answer, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("mcp-protocol-version", Header(answer, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("authorization", Header(answer, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Null(Header(answer, "Access-Control-Allow-Credentials"));

        using var initialize = new HttpRequestMessage(HttpMethod.Post, _gateway.ProfileUrl("p"))
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"web","version":"1"}}}""", Encoding.UTF8, "application/json"),
        };
        initialize.Headers.Add("Origin", origin);
        initialize.Headers.Add("Accept", "application/json, text/event-stream");
        using var session = await http.SendAsync(initialize);

        Assert.Equal(HttpStatusCode.OK, session.StatusCode);
        Assert.Equal(origin, Header(session, "Access-Control-Allow-Origin"));
        Assert.Contains("Mcp-Session-Id", Header(session, "Access-Control-Expose-Headers"), StringComparison.Ordinal);
        Assert.Contains("WWW-Authenticate", Header(session, "Access-Control-Expose-Headers"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(Header(session, "Mcp-Session-Id")));
    }

    [Fact]
    public async Task ForeignOrigin_GetsNoCorsHeaders_ItsPreflightIsRefused_AndItsRequestsToo()
    {
        using var http = new HttpClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, _gateway.ProfileUrl("p"));
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var refused = await http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Null(Header(refused, "Access-Control-Allow-Origin"));

        using var post = new HttpRequestMessage(HttpMethod.Post, _gateway.ProfileUrl("p"))
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"web","version":"1"}}}""", Encoding.UTF8, "application/json"),
        };
        post.Headers.Add("Origin", "https://evil.example");
        post.Headers.Add("Accept", "application/json, text/event-stream");
        using var forbidden = await http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Null(Header(forbidden, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task PagesInChromium_AnAllowedOneUsesTheEndpoint_AForeignOneIsKeptOut()
    {
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "browser-cors.mjs");
        // 127.0.0.1 is an allowed host (loopback); 127.0.0.2 is loopback too, but not a host this gateway names.
        await using var node = ChildProcess.Start(Repository.Node, [script, _gateway.ProfileUrl("p").ToString(), Repository.Chromium, "127.0.0.1", "127.0.0.2"]);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exit == 0, node.Output);
        var report = JsonNode.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{')))!;

        var allowed = report["allowed"]!;
        Assert.True(allowed["error"] is null, allowed.ToJsonString());
        Assert.Equal(200, allowed["initStatus"]!.GetValue<int>());
        Assert.True(allowed["sessionIdReadable"]!.GetValue<bool>());
        Assert.Equal("archestra-edge", allowed["serverName"]!.GetValue<string>());
        Assert.Contains("edge__whoami", allowed["tools"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.InRange(allowed["deleteStatus"]!.GetValue<int>(), 200, 204);

        var foreign = report["refused"]!;
        Assert.StartsWith("TypeError", foreign["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(foreign["initStatus"]);
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values) : null;
}
