using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The downstream Streamable HTTP contract, request by request, including every kind of bad input: each gets
/// the right status and JSON-RPC error, and the gateway keeps serving.
/// </summary>
public sealed class TransportTests(TransportTests.Fixture fixture) : IClassFixture<TransportTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => """
            server:
              allowed_origins: ["https://app.example.com"]
            limits:
              max_request_bytes: 64KiB
            servers:
              edge: { builtin: archestra }
            profiles:
              p:
                tools: [{ server: edge }]
            """);

    private RawMcpClient NewClient(string profile = "p") => new(_gateway.ProfileUrl(profile));

    [Theory]
    [InlineData("2025-11-25", "2025-11-25")]
    [InlineData("2025-06-18", "2025-06-18")]
    [InlineData("2025-03-26", "2025-03-26")]
    [InlineData("2024-11-05", "2025-11-25")]
    [InlineData("2099-01-01", "2025-11-25")]
    public async Task Initialize_NegotiatesTheVersion_AndIssuesARandomSession(string requested, string expected)
    {
        using var client = NewClient();
        var result = await client.InitializeAsync(requested);

        Assert.Equal(expected, result["result"]!["protocolVersion"]!.GetValue<string>());
        Assert.Matches("^[A-Za-z0-9_-]{43}$", client.SessionId!);
        Assert.Equal("archestra-edge", result["result"]!["serverInfo"]!["name"]!.GetValue<string>());
        Assert.True(result["result"]!["capabilities"]!["tools"]!["listChanged"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Ping_AnswersEmptyObject()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        var pong = await client.RequestAsync("""{"jsonrpc":"2.0","id":"p1","method":"ping"}""");
        Assert.Equal("{}", pong["result"]!.ToJsonString());
        Assert.Equal("p1", pong["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Notification_GetsAcceptedWithNoBody()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MalformedJson_Is400ParseError()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping" """);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, -32700);
    }

    [Fact]
    public async Task NotJsonRpc_Is400InvalidRequest()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var response = await client.SendAsync("""{"id":1,"method":"ping"}""");
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, -32600);
    }

    [Fact]
    public async Task WrongContentType_Is415()
    {
        using var client = NewClient();
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", contentType: "text/plain");
        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, -32000);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("text/event-stream")]
    public async Task AcceptWithoutBothTypes_Is406(string? accept)
    {
        using var client = NewClient();
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", accept: accept);
        await AssertErrorAsync(response, HttpStatusCode.NotAcceptable, -32000);
    }

    [Fact]
    public async Task Batch_OnCurrentRevisions_Is400()
    {
        using var client = NewClient();
        await client.InitializeAsync("2025-06-18");
        using var response = await client.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]""");
        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, -32600);
        Assert.Contains("batch", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnknownMethod_IsMethodNotFound()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        var response = await client.RequestAsync("""{"jsonrpc":"2.0","id":5,"method":"vendor/frobnicate"}""");
        Assert.Equal(-32601, response["error"]!["code"]!.GetValue<int>());
        Assert.Contains("vendor/frobnicate", response["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(5, response["id"]!.GetValue<int>());
    }

    [Fact]
    public async Task UnknownTool_IsInvalidParams()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        var response = await client.RequestAsync("""{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"edge__nope","arguments":{}}}""");
        Assert.Equal(-32602, response["error"]!["code"]!.GetValue<int>());
        Assert.Equal("Unknown tool: edge__nope", response["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task OversizedBody_Is413_AndTheGatewayKeepsServing()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        var huge = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"edge__whoami","arguments":{"pad":"PAD"}}}""".Replace("PAD", new string('x', 100_000), StringComparison.Ordinal);

        using var response = await client.SendAsync(huge);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, -32600);

        // Chunked (no Content-Length) is caught too.
        var chunked = new HttpRequestMessage(HttpMethod.Post, client.Endpoint) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))) };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Headers.TryAddWithoutValidation("Mcp-Session-Id", client.SessionId);
        using var http = new HttpClient();
        using var chunkedResponse = await http.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunkedResponse.StatusCode);

        var pong = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"ping"}""");
        Assert.NotNull(pong["result"]);
    }

    [Fact]
    public async Task MissingSession_Is400_UnknownSession_Is404()
    {
        using var client = NewClient();
        using var missing = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        await AssertErrorAsync(missing, HttpStatusCode.BadRequest, -32000);

        client.SessionId = "forged-session-id-that-was-never-issued";
        using var unknown = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        await AssertErrorAsync(unknown, HttpStatusCode.NotFound, -32001);
    }

    [Fact]
    public async Task SessionOfAnotherProfile_Is404()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers: { edge: { builtin: archestra } }
            profiles:
              a: { tools: [{ server: edge }] }
              b: { tools: [{ server: edge }] }
            """);
        using var a = new RawMcpClient(gateway.ProfileUrl("a"));
        await a.InitializeAsync();
        using var b = new RawMcpClient(gateway.ProfileUrl("b")) { SessionId = a.SessionId };
        using var response = await b.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Delete_EndsTheSession_ThenItsIdGets404()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var deleted = await client.DeleteAsync();
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        using var after = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping"}""");
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        using var deletedAgain = await client.DeleteAsync();
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    [Theory]
    [InlineData("2099-01-01")]
    [InlineData("garbage")]
    public async Task UnsupportedProtocolVersionHeader_Is400WithSupportedList(string version)
    {
        using var client = NewClient();
        await client.InitializeAsync();
        client.ProtocolVersion = version;
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping"}""");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(-32022, body["error"]!["code"]!.GetValue<int>());
        Assert.Equal(version, body["error"]!["data"]!["requested"]!.GetValue<string>());
        Assert.Contains("2025-11-25", body["error"]!["data"]!["supported"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task ForeignHostOrOrigin_Is403_LoopbackAndAllowedOriginPass()
    {
        using var client = NewClient();
        using var evilHost = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}""",
            headers: new Dictionary<string, string> { ["Host"] = "evil.example.com", ["Origin"] = "http://evil.example.com" });
        Assert.Equal(HttpStatusCode.Forbidden, evilHost.StatusCode);

        using var evilOrigin = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"ping"}""",
            headers: new Dictionary<string, string> { ["Origin"] = "https://attacker.example" });
        Assert.Equal(HttpStatusCode.Forbidden, evilOrigin.StatusCode);

        using var allowed = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}""",
            headers: new Dictionary<string, string> { ["Origin"] = "https://app.example.com" });
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        using var localhost = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}""",
            headers: new Dictionary<string, string> { ["Host"] = $"localhost:{_gateway.BaseUrl.Port}", ["Origin"] = $"http://localhost:{_gateway.BaseUrl.Port}" });
        Assert.Equal(HttpStatusCode.OK, localhost.StatusCode);
    }

    [Fact]
    public async Task UnknownProfile_Is404()
    {
        using var client = NewClient("nope");
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}""");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task GetStream_OpensOncePerSession_AndEndsWithTheSession()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var stream = await client.GetStreamAsync();
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);

        using var second = await client.GetStreamAsync();
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);

        var body = await stream.Content.ReadAsStreamAsync();
        using var deleted = await client.DeleteAsync();
        using var reader = new StreamReader(body);
        var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)); // the stream ends with the session

        // 2025-11-25: the stream opens with a priming event (an id, empty data) so the client can resume it.
        Assert.StartsWith("id: 0.1\nretry: 1000\ndata: \n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWithoutEventStreamAccept_Is406_OtherMethodsAre405()
    {
        using var client = NewClient();
        await client.InitializeAsync();
        using var http = new HttpClient();
        var get = new HttpRequestMessage(HttpMethod.Get, client.Endpoint);
        get.Headers.TryAddWithoutValidation("Accept", "application/json");
        get.Headers.TryAddWithoutValidation("Mcp-Session-Id", client.SessionId);
        using var getResponse = await http.SendAsync(get);
        Assert.Equal(HttpStatusCode.NotAcceptable, getResponse.StatusCode);

        using var put = await http.PutAsync(client.Endpoint, new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
    }

    private static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, int code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!;
        Assert.Equal("2.0", body["jsonrpc"]!.GetValue<string>());
        Assert.Equal(code, body["error"]!["code"]!.GetValue<int>());
        return body["error"]!["message"]!.GetValue<string>();
    }
}
