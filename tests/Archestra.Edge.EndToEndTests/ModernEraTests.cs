using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>A gateway in front of a 2025 server over HTTP and over stdio, and of a 2026-07-28 (stateless) server.</summary>
public sealed class ModernEraFixture : IAsyncLifetime
{
    internal TestServerProcess Classic { get; private set; } = null!;

    internal TestServerProcess Modern { get; private set; } = null!;

    internal GatewayProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Classic = await TestServerProcess.StartHttpAsync("classic");
        Modern = await TestServerProcess.StartHttpAsync("modern", "--era", "2026");
        Gateway = await GatewayProcess.StartAsync($$"""
            servers:
              classic:
                remote: { url: "{{Classic.Url}}" }
              stdio:
                {{TestServerProcess.StdioYaml("stdio")}}
              modern:
                remote: { url: "{{Modern.Url}}" }
              stdio-modern:
                {{TestServerProcess.StdioYaml("stdio-modern", "--era", "both")}}
            profiles:
              classic: { naming: bare, tools: [{ server: classic }], prompts: [{ server: classic }], resources: [{ server: classic }] }
              stdio: { naming: bare, tools: [{ server: stdio }] }
              modern: { naming: bare, tools: [{ server: modern }], prompts: [{ server: modern }], resources: [{ server: modern }] }
              modern-too: { naming: bare, tools: [{ server: modern }] }
              stdio-modern: { naming: bare, tools: [{ server: stdio-modern }] }
            """);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Modern.DisposeAsync();
        await Classic.DisposeAsync();
    }
}

/// <summary>
/// 2026-07-28 (stateless) and 2025 (session) clients through one gateway, to 2025 and 2026-07-28 servers: real C# SDK
/// 2.4.0 clients and servers on both sides, and raw requests for what a client library would never send.
/// </summary>
public sealed class ModernEraTests : IClassFixture<ModernEraFixture>
{
    private readonly ModernEraFixture _fixture;

    public ModernEraTests(ModernEraFixture fixture)
    {
        _fixture = fixture;
    }

    private static McpClientOptions AnsweringOptions() => new()
    {
        Capabilities = new ClientCapabilities { Roots = new RootsCapability { ListChanged = true } },
        Handlers = new McpClientHandlers
        {
            ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
            {
                Action = "accept",
                Content = new Dictionary<string, JsonElement>
                {
                    ["name"] = JsonSerializer.SerializeToElement("Ada"),
                    ["username"] = JsonSerializer.SerializeToElement("ada"),
                    ["email"] = JsonSerializer.SerializeToElement("ada@example.com"),
                    ["ok"] = JsonSerializer.SerializeToElement(true),
                    ["color"] = JsonSerializer.SerializeToElement("teal"),
                },
            }),
            SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
            {
                Role = Role.Assistant,
                Model = "test-model",
                Content = [new TextContentBlock { Text = $"sampled: {((TextContentBlock)request!.Messages[0].Content[0]).Text}" }],
            }),
            RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work/ada", Name = "ada's work" }] }),
        },
    };

    [Theory]
    [InlineData("classic")]
    [InlineData("stdio")]
    [InlineData("modern")]
    public async Task ModernSdkClient_ListsAndCalls_WithoutASession(string profile)
    {
        await using var client = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl(profile));

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Null(client.SessionId);
        Assert.Contains("echo", (await client.ListToolsAsync()).Select(t => t.Name));
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "naïve café ☕" });
        Assert.Equal("naïve café ☕", Clients.Text(result));
    }

    [Theory]
    [InlineData("classic")]
    [InlineData("stdio")]
    public async Task ModernClient_Of2025Server_ElicitationSamplingAndRoots_BecomeInputRequired_AndTheCallGoesOn(string profile)
    {
        await using var client = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl(profile), AnsweringOptions());

        var elicited = Clients.Text(await client.CallToolAsync("elicit", new Dictionary<string, object?> { ["message"] = "who are you?" }));
        Assert.Contains("\"action\":\"accept\"", elicited);
        Assert.Contains("ada@example.com", elicited);

        Assert.Equal("LLM response: sampled: the prompt", Clients.Text(await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "the prompt" })));
        Assert.Contains("file:///work/ada", Clients.Text(await client.CallToolAsync("roots")));
    }

    [Fact]
    public async Task ModernRawClient_Of2025Server_GetsAnInputRequiredResult_ThenTheResultOnRetry()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        var (status, first) = await raw.ModernAsync("tools/call", """{"name":"elicit","arguments":{"message":"who?"}}""", capabilities: """{"elicitation":{}}""");
        Assert.Equal(200, status);
        var result = first["result"]!;
        Assert.Equal("input_required", result["resultType"]!.GetValue<string>());
        var (key, request) = result["inputRequests"]!.AsObject().Single();
        Assert.Equal("elicitation/create", request!["method"]!.GetValue<string>());
        Assert.Equal("who?", request["params"]!["message"]!.GetValue<string>());
        var state = result["requestState"]!.GetValue<string>();

        var retry = new JsonObject
        {
            ["name"] = "elicit",
            ["arguments"] = new JsonObject { ["message"] = "who?" },
            ["inputResponses"] = new JsonObject { [key] = JsonNode.Parse("""{"action":"accept","content":{"name":"Ada"}}""") },
            ["requestState"] = state,
        };
        var (retryStatus, final) = await raw.ModernAsync("tools/call", retry.ToJsonString(), capabilities: """{"elicitation":{}}""");
        Assert.Equal(200, retryStatus);
        Assert.Equal("complete", final["result"]!["resultType"]!.GetValue<string>());
        Assert.Contains("Ada", final["result"]!["content"]![0]!["text"]!.GetValue<string>());

        // The same state again: its call is over, and the state was used.
        var (_, replayed) = await raw.ModernAsync("tools/call", retry.ToJsonString(), capabilities: """{"elicitation":{}}""");
        Assert.Equal(-32602, replayed["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task ModernRawClient_WhoseAnswerIsMissingOrUnusable_IsAskedAgain_ThenTheCallGoesOn()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        const string caps = """{"elicitation":{}}""";
        var (_, first) = await raw.ModernAsync("tools/call", """{"name":"elicit","arguments":{"message":"who?"}}""", caps);
        var key = first["result"]!["inputRequests"]!.AsObject().Single().Key;

        string Retry(string state, JsonNode? answer) => new JsonObject
        {
            ["name"] = "elicit",
            ["arguments"] = new JsonObject { ["message"] = "who?" },
            ["inputResponses"] = answer is null ? new JsonObject { ["unrelated"] = 1 } : new JsonObject { [key] = answer },
            ["requestState"] = state,
        }.ToJsonString();

        var (_, missing) = await raw.ModernAsync("tools/call", Retry(first["result"]!["requestState"]!.GetValue<string>(), null), caps);
        Assert.Equal("input_required", missing["result"]!["resultType"]!.GetValue<string>());
        Assert.Equal(key, missing["result"]!["inputRequests"]!.AsObject().Single().Key);

        var (_, unusable) = await raw.ModernAsync("tools/call", Retry(missing["result"]!["requestState"]!.GetValue<string>(), JsonValue.Create("not an object")), caps);
        Assert.Equal("input_required", unusable["result"]!["resultType"]!.GetValue<string>());

        var (_, done) = await raw.ModernAsync("tools/call", Retry(unusable["result"]!["requestState"]!.GetValue<string>(), JsonNode.Parse("""{"action":"decline"}""")), caps);
        Assert.Equal("complete", done["result"]!["resultType"]!.GetValue<string>());
        Assert.Contains("decline", done["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task ModernClient_WithoutTheCapability_IsNeverAsked_AndTheServerIsRefused()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        var (_, message) = await raw.ModernAsync("tools/call", """{"name":"elicit","arguments":{"message":"who?"}}""");
        var text = message.ToJsonString();
        Assert.DoesNotContain("input_required", text);
        Assert.Contains("did not declare", text);
    }

    [Theory]
    [InlineData("test_input_required_result_elicitation", "Hello, Ada!")]
    [InlineData("test_input_required_result_request_state", "state-ok")]
    [InlineData("test_input_required_result_multi_round", "Ada likes teal")]
    [InlineData("test_input_required_result_multiple_inputs", "All three answers arrived")]
    public async Task SessionClient_Of2026Server_InputRequiredBecomesRequestsOnItsStream_AndTheAnswersGoBack(string tool, string expected)
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("modern"), AnsweringOptions());

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.NotNull(client.SessionId);
        var result = await client.CallToolAsync(tool);
        Assert.Contains(expected, Clients.Text(result));
    }

    [Fact]
    public async Task StdioServers_AreAskedServerDiscoverFirst_AndSpokenToIn2026_07_28WhenTheyCan()
    {
        // Clients of both eras, each through a 2026-07-28 stdio server whose multi-round tool asks twice.
        await using (var session = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("stdio-modern"), AnsweringOptions()))
        {
            Assert.Equal("Ada likes teal", Clients.Text(await session.CallToolAsync("test_input_required_result_multi_round")));
        }

        await using (var modern = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl("stdio-modern"), AnsweringOptions()))
        {
            Assert.Equal("Ada likes teal", Clients.Text(await modern.CallToolAsync("test_input_required_result_multi_round")));
            Assert.Equal("x", Clients.Text(await modern.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "x" })));
        }

        // The 2025 stdio server (the SDK pinned to 2025-11-25) refused server/discover and was initialized; status says which is which.
        await using (var classic = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl("stdio")))
        {
            Assert.Equal("x", Clients.Text(await classic.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "x" })));
        }

        foreach (var remote in new[] { "classic", "modern" })
        {
            await using var client = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl(remote));
            Assert.Equal("x", Clients.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "x" })));
        }

        var status = await _fixture.Gateway.StatusAsync();
        string? Protocol(string server) => status["servers"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == server)!["replicas"]![0]!["protocol_version"]?.GetValue<string>();
        Assert.Equal("2026-07-28", Protocol("stdio-modern"));
        Assert.Equal("2025-11-25", Protocol("stdio"));
        Assert.Equal("2026-07-28", Protocol("modern"));
        Assert.Equal("2025-11-25", Protocol("classic"));
    }

    [Fact]
    public async Task SessionClient_Of2026Server_IsAskedAtMost32InputsAtOnce()
    {
        var asked = 0;
        var options = AnsweringOptions();
        var answer = options.Handlers.ElicitationHandler!;
        options.Handlers.ElicitationHandler = (request, ct) =>
        {
            Interlocked.Increment(ref asked);
            return answer(request, ct);
        };
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("modern"), options);

        Assert.Equal("32 answers", Clients.Text(await client.CallToolAsync("many_inputs", new Dictionary<string, object?> { ["count"] = 32 })));
        Assert.Equal(32, asked);

        var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => client.CallToolAsync("many_inputs", new Dictionary<string, object?> { ["count"] = 33 }).AsTask());
        Assert.Contains("at most 32", refused.Message, StringComparison.Ordinal);
        Assert.Equal(32, asked); // none of the 33 was asked
    }

    [Fact]
    public async Task ModernSdkClient_Of2026Server_ResolvesInputRequired_ThroughTheGatewaysSealedState()
    {
        await using var client = await Clients.ConnectModernAsync(_fixture.Gateway.ProfileUrl("modern"), AnsweringOptions());

        Assert.Equal("Hello, Ada!", Clients.Text(await client.CallToolAsync("test_input_required_result_elicitation")));
        Assert.Contains("state-ok", Clients.Text(await client.CallToolAsync("test_input_required_result_request_state")));
        Assert.Equal("Ada likes teal", Clients.Text(await client.CallToolAsync("test_input_required_result_multi_round")));
    }

    [Fact]
    public async Task RequestState_Tampered_Replayed_OrFromAnotherProfile_IsRefused()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("modern"));
        const string call = """{"name":"test_input_required_result_request_state","arguments":{}}""";
        const string caps = """{"elicitation":{}}""";

        async Task<string> FreshStateAsync(RawMcpClient client)
        {
            var (_, first) = await client.ModernAsync("tools/call", call, caps);
            Assert.Equal("input_required", first["result"]!["resultType"]!.GetValue<string>());
            return first["result"]!["requestState"]!.GetValue<string>();
        }

        string Retry(string state) => new JsonObject
        {
            ["name"] = "test_input_required_result_request_state",
            ["arguments"] = new JsonObject(),
            ["inputResponses"] = new JsonObject { ["confirm"] = JsonNode.Parse("""{"action":"accept","content":{"ok":true}}""") },
            ["requestState"] = state,
        }.ToJsonString();

        // Tampered: one character of the payload changed.
        var state = await FreshStateAsync(raw);
        var tampered = (state[0] == 'A' ? 'B' : 'A') + state[1..];
        var (status, refused) = await raw.ModernAsync("tools/call", Retry(tampered), caps);
        Assert.Equal(200, status);
        Assert.Equal(-32602, refused["error"]!["code"]!.GetValue<int>());
        Assert.Contains("integrity", refused["error"]!["message"]!.GetValue<string>());

        // Intact: accepted once, then refused as a replay.
        var (_, ok) = await raw.ModernAsync("tools/call", Retry(state), caps);
        Assert.Contains("state-ok", ok["result"]!["content"]![0]!["text"]!.GetValue<string>());
        var (_, replayed) = await raw.ModernAsync("tools/call", Retry(state), caps);
        Assert.Contains("used already", replayed["error"]!["message"]!.GetValue<string>());

        // Foreign: issued on one profile, presented on another profile of the same server.
        var foreignState = await FreshStateAsync(raw);
        using var other = new RawMcpClient(_fixture.Gateway.ProfileUrl("modern-too"));
        var (_, foreign) = await other.ModernAsync("tools/call", Retry(foreignState), caps);
        Assert.Contains("another caller or profile", foreign["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task HeadersThatDisagreeWithTheBody_Are400With32020_AndMissingMetaIs400With32602()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        const string call = """{"name":"echo","arguments":{"text":"x"}}""";

        var cases = new (string What, IDictionary<string, string?> Headers, int Status, int Code)[]
        {
            ("Mcp-Method names another method", new Dictionary<string, string?> { ["Mcp-Method"] = "tools/list" }, 400, -32020),
            ("Mcp-Method missing", new Dictionary<string, string?> { ["Mcp-Method"] = null }, 400, -32020),
            ("Mcp-Name names another tool", new Dictionary<string, string?> { ["Mcp-Name"] = "add" }, 400, -32020),
            ("Mcp-Name missing", new Dictionary<string, string?> { ["Mcp-Name"] = null }, 400, -32020),
            ("protocol header missing", new Dictionary<string, string?> { ["MCP-Protocol-Version"] = null }, 400, -32020),
            ("protocol header another version", new Dictionary<string, string?> { ["MCP-Protocol-Version"] = "2025-06-18" }, 400, -32020),
        };
        foreach (var (what, headers, expectedStatus, code) in cases)
        {
            var (status, message) = await raw.ModernAsync("tools/call", call, headers: headers);
            Assert.True(status == expectedStatus && message["error"]?["code"]?.GetValue<int>() == code, $"{what}: HTTP {status} {message.ToJsonString()}");
            Assert.Equal(1, message["id"]!.GetValue<int>());
        }

        // Non-ASCII names travel base64-encoded in the header, and match.
        var (encodedStatus, _) = await raw.ModernAsync("tools/call", call, headers: new Dictionary<string, string?> { ["Mcp-Name"] = "=?base64?ZWNobw==?=" });
        Assert.Equal(200, encodedStatus);

        using var noMeta = await raw.SendAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}}""",
            headers: new Dictionary<string, string> { ["MCP-Protocol-Version"] = "2026-07-28", ["Mcp-Method"] = "tools/list" });
        Assert.Equal(HttpStatusCode.BadRequest, noMeta.StatusCode);
        Assert.Equal(-32602, (await RawMcpClient.ReadMessagesAsync(noMeta)).Single()["error"]!["code"]!.GetValue<int>());

        foreach (var removed in new[] { "ping", "initialize", "logging/setLevel", "resources/subscribe", "no/such/method" })
        {
            var (status, message) = await raw.ModernAsync(removed, removed == "resources/subscribe" ? """{"uri":"test://static-text"}""" : "{}");
            Assert.True(status == 404 && message["error"]!["code"]!.GetValue<int>() == -32601, $"{removed}: HTTP {status} {message.ToJsonString()}");
        }
    }

    [Fact]
    public async Task Discover_AndLists_SayWhatTheProfileOffers_WithResultTypeAndCachingHints()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        var (_, discover) = await raw.ModernAsync("server/discover");
        var result = discover["result"]!;
        Assert.Equal("complete", result["resultType"]!.GetValue<string>());
        Assert.Equal(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"], result["supportedVersions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.True(result["capabilities"]!["tools"]!["listChanged"]!.GetValue<bool>());
        Assert.Equal("archestra-edge", result["_meta"]!["io.modelcontextprotocol/serverInfo"]!["name"]!.GetValue<string>());

        foreach (var method in new[] { "tools/list", "prompts/list", "resources/list", "resources/templates/list" })
        {
            var (_, list) = await raw.ModernAsync(method);
            Assert.Equal("complete", list["result"]!["resultType"]!.GetValue<string>());
            Assert.Equal(5000, list["result"]!["ttlMs"]!.GetValue<int>());
            Assert.Equal("public", list["result"]!["cacheScope"]!.GetValue<string>());
        }

        var (_, read) = await raw.ModernAsync("resources/read", """{"uri":"test://static-text"}""");
        Assert.Equal(0, read["result"]!["ttlMs"]!.GetValue<int>());
        Assert.Equal("private", read["result"]!["cacheScope"]!.GetValue<string>());
    }

    [Fact]
    public async Task LogsReachAModernClient_OnlyWhenItsRequestAsksForThem()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        const string call = """{"name":"log","arguments":{"level":"warning","message":"from the server"}}""";
        using (var quiet = await raw.SendModernAsync("tools/call", call))
        {
            var messages = await RawMcpClient.ReadMessagesAsync(quiet);
            Assert.DoesNotContain(messages, m => m["method"]?.GetValue<string>() == "notifications/message");
        }

        using var asked = await raw.SendModernAsync("tools/call", call, meta: "\"io.modelcontextprotocol/logLevel\":\"info\"");
        var logged = await RawMcpClient.ReadMessagesAsync(asked);
        Assert.Contains(logged, m => m["method"]?.GetValue<string>() == "notifications/message" && m.ToJsonString().Contains("from the server", StringComparison.Ordinal));
        Assert.Equal("complete", logged.Last()["result"]!["resultType"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClosingTheResponseStream_CancelsTheCallUpstream()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("stdio"));
        using var goAway = new CancellationTokenSource();
        var call = raw.SendModernAsync("tools/call", """{"name":"hang","arguments":{}}""", cancellationToken: goAway.Token);
        await _fixture.Gateway.Process.WaitForLineAsync(line => line.Contains("stdio: hanging call started", StringComparison.Ordinal), TimeSpan.FromSeconds(20));

        await goAway.CancelAsync(); // the client goes away: for 2026-07-28 that is the cancel
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await _fixture.Gateway.Process.WaitForLineAsync(line => line.Contains("stdio: hanging call cancelled", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task ListenStream_DeliversTheListChangesAskedFor_TaggedWithItsSubscriptionId()
    {
        using var listener = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        using var stream = await listener.SendModernAsync("subscriptions/listen", """{"notifications":{"toolsListChanged":true}}""", id: "sub-7");
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var events = new SseReader(await stream.Content.ReadAsStreamAsync());
        var ack = JsonNode.Parse((await events.ReadAsync(TimeSpan.FromSeconds(10)))!.Data)!;
        Assert.Equal("notifications/subscriptions/acknowledged", ack["method"]!.GetValue<string>());
        Assert.True(ack["params"]!["notifications"]!["toolsListChanged"]!.GetValue<bool>());
        Assert.Null(ack["params"]!["notifications"]!["promptsListChanged"]);
        Assert.Equal("sub-7", ack["params"]!["_meta"]!["io.modelcontextprotocol/subscriptionId"]!.GetValue<string>());

        // A prompts-only listener must not get the tool change.
        using var narrow = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        using var narrowStream = await narrow.SendModernAsync("subscriptions/listen", """{"notifications":{"promptsListChanged":true}}""", id: "sub-8");
        using var narrowEvents = new SseReader(await narrowStream.Content.ReadAsStreamAsync());
        Assert.NotNull(await narrowEvents.ReadAsync(TimeSpan.FromSeconds(10))); // its acknowledgement

        using var caller = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        var name = $"added_{Guid.NewGuid():N}";
        var (_, added) = await caller.ModernAsync("tools/call", $$$"""{"name":"add_tool","arguments":{"name":"{{{name}}}"}}""");
        Assert.Equal($"added {name}", added["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var changed = JsonNode.Parse((await events.ReadAsync(TimeSpan.FromSeconds(15)))!.Data)!;
        Assert.Equal("notifications/tools/list_changed", changed["method"]!.GetValue<string>());
        Assert.Equal("sub-7", changed["params"]!["_meta"]!["io.modelcontextprotocol/subscriptionId"]!.GetValue<string>());
        var (_, list) = await caller.ModernAsync("tools/list");
        Assert.Contains(name, list["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => narrowEvents.ReadAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ListenStream_ResourceSubscriptions_AreGrantedWhereTheyCanBeFollowed_AndUpdatesArrive()
    {
        using var listener = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        using var stream = await listener.SendModernAsync("subscriptions/listen", """{"notifications":{"resourceSubscriptions":["test://watched-resource"]}}""", id: 9);
        using var events = new SseReader(await stream.Content.ReadAsStreamAsync());
        var ack = JsonNode.Parse((await events.ReadAsync(TimeSpan.FromSeconds(10)))!.Data)!;
        Assert.Equal(["test://watched-resource"], ack["params"]!["notifications"]!["resourceSubscriptions"]!.AsArray().Select(u => u!.GetValue<string>()));

        using var caller = new RawMcpClient(_fixture.Gateway.ProfileUrl("classic"));
        await caller.ModernAsync("tools/call", """{"name":"touch_resource","arguments":{"uri":"test://watched-resource"}}""");
        var updated = JsonNode.Parse((await events.ReadAsync(TimeSpan.FromSeconds(15)))!.Data)!;
        Assert.Equal("notifications/resources/updated", updated["method"]!.GetValue<string>());
        Assert.Equal("test://watched-resource", updated["params"]!["uri"]!.GetValue<string>());
        Assert.Equal(9, updated["params"]!["_meta"]!["io.modelcontextprotocol/subscriptionId"]!.GetValue<int>());

        // A 2026-07-28 server's resources cannot be followed yet: the acknowledgement grants nothing, rather than pretend.
        using var modern = new RawMcpClient(_fixture.Gateway.ProfileUrl("modern"));
        await modern.ModernAsync("resources/list");
        using var modernStream = await modern.SendModernAsync("subscriptions/listen", """{"notifications":{"resourceSubscriptions":["test://static-text"]}}""", id: 10);
        using var modernEvents = new SseReader(await modernStream.Content.ReadAsStreamAsync());
        var modernAck = JsonNode.Parse((await modernEvents.ReadAsync(TimeSpan.FromSeconds(10)))!.Data)!;
        Assert.Null(modernAck["params"]!["notifications"]!["resourceSubscriptions"]);
    }

    [Fact]
    public async Task TheGateway_SpeaksTo2026Servers_Statelessly_WithTheHeadersTheyRequire()
    {
        using var raw = new RawMcpClient(_fixture.Gateway.ProfileUrl("modern"));
        var (_, result) = await raw.ModernAsync("tools/call", """{"name":"headers","arguments":{}}""");
        var headers = Headers(result["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("2026-07-28", headers["MCP-Protocol-Version"]);
        Assert.Equal("tools/call", headers["Mcp-Method"]);
        Assert.Equal("headers", headers["Mcp-Name"]);
        Assert.False(headers.ContainsKey("Mcp-Session-Id"));

        // A 2025 client's call to the same server travels the same way, with the session's capabilities in _meta.
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("modern"));
        var viaSession = Headers(Clients.Text(await client.CallToolAsync("headers")));
        Assert.Equal("2026-07-28", viaSession["MCP-Protocol-Version"]);
        Assert.False(viaSession.ContainsKey("Mcp-Session-Id"));
    }

    private static Dictionary<string, string> Headers(string json)
        => new(JsonSerializer.Deserialize<Dictionary<string, string>>(json)!, StringComparer.OrdinalIgnoreCase);
}
