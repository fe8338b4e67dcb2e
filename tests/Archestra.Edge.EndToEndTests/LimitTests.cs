using System.Net;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Limits: rate limits (per caller and profile a 429 with Retry-After; per tool a tool error inside the session), the
/// session cap, slow clients, and the drain of in-flight calls at shutdown.
/// </summary>
public sealed class LimitTests
{
    private const string Echo = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"edge__whoami","arguments":{}}}""";

    [Fact]
    public async Task PerCaller_Beyond_The_Burst_Is429_WithRetryAfter_AndNotificationsStillPass()
    {
        await using var gateway = await StartEdgeAsync("rate_per_principal: 3/m");
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync(); // request 1 (initialized is a notification: not counted)
        Assert.Null((await client.RequestAsync(Echo))["error"]); // 2
        Assert.Null((await client.RequestAsync(Echo))["error"]); // 3

        using var refused = await client.SendAsync(Echo);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value.TotalSeconds, 1, 20);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal(7, body["id"]!.GetValue<int>());
        Assert.Contains("limited to 3/m", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        using var notification = await client.SendAsync("""{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}""");
        Assert.Equal(HttpStatusCode.Accepted, notification.StatusCode);
    }

    [Fact]
    public async Task EveryRequestOfABatch_Counts_AndTheOnesBeyondTheBurstAreRefusedInPlace()
    {
        await using var gateway = await StartEdgeAsync("rate_per_principal: 3/m");
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync("2025-03-26"); // request 1

        // Four requests in one POST: two fit the burst, two do not.
        using var response = await client.SendAsync("""
            [{"jsonrpc":"2.0","id":1,"method":"ping"},
             {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"edge__whoami","arguments":{}}},
             {"jsonrpc":"2.0","id":3,"method":"ping"},
             {"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"edge__whoami","arguments":{}}},
             {"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answers = (await RawMcpClient.ReadMessagesAsync(response)).ToDictionary(m => m["id"]!.GetValue<int>());

        Assert.Equal(4, answers.Count);
        Assert.Null(answers[1]["error"]);
        Assert.Null(answers[2]["error"]);
        foreach (var id in (int[])[3, 4])
        {
            Assert.Equal(-32012, answers[id]["error"]!["code"]!.GetValue<int>());
            Assert.Contains("limited to 3/m", answers[id]["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.NotNull(response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task PerTool_Beyond_The_Burst_IsAToolError_OtherToolsStillWork()
    {
        await using var gateway = await StartEdgeAsync("rate_per_tool: 2/h");
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        Assert.NotEqual(true, (await client.RequestAsync(Echo))["result"]!["isError"]?.GetValue<bool>());
        Assert.NotEqual(true, (await client.RequestAsync(Echo))["result"]!["isError"]?.GetValue<bool>());

        var limited = await client.RequestAsync(Echo);
        Assert.True(limited["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("edge's tool 'whoami' is limited to 2/h", limited["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var other = await client.RequestAsync("""{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"edge__gateway_info","arguments":{}}}""");
        Assert.NotEqual(true, other["result"]!["isError"]?.GetValue<bool>());
    }

    [Fact]
    public async Task ASlowClient_ThatNeverFinishesItsHeaders_IsCutOff()
    {
        await using var gateway = await StartEdgeAsync("request_headers_timeout: 1s");
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(gateway.BaseUrl.Host, gateway.BaseUrl.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync("POST /v1/mcp/p HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app"u8.ToArray());

        // Kestrel answers 408 and closes; the read ends well before the test's own deadline.
        var buffer = new byte[4096];
        var received = new System.Text.StringBuilder();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        int read;
        while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
        {
            received.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.False(deadline.IsCancellationRequested);
        Assert.StartsWith("HTTP/1.1 408", received.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASlowBody_BelowTheMinimumRate_IsCutOff_AndOthersAreServed()
    {
        await using var gateway = await StartEdgeAsync(limits: null);
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(gateway.BaseUrl.Host, gateway.BaseUrl.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync("POST /v1/mcp/p HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{"u8.ToArray());

        // A few bytes a second, far below the 240 bytes/s every body must keep after a 5 s grace period.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var trickle = Task.Run(async () =>
        {
            try
            {
                while (!deadline.IsCancellationRequested)
                {
                    await stream.WriteAsync("\"a\":1,"u8.ToArray(), deadline.Token);
                    await Task.Delay(500, deadline.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The gateway closed the connection.
            }
        });

        var buffer = new byte[4096];
        var received = new System.Text.StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
        {
            received.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.False(deadline.IsCancellationRequested, "the slow body was never cut off");
        Assert.StartsWith("HTTP/1.1 408", received.ToString(), StringComparison.Ordinal);
        await deadline.CancelAsync();
        await trickle;

        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        Assert.Null((await client.RequestAsync(Echo))["error"]);
    }

    [Fact]
    public async Task MaxSessions_RefusesTheNextOneWith503_UntilOneEnds()
    {
        await using var gateway = await StartEdgeAsync("max_sessions: 2");
        using var first = new RawMcpClient(gateway.ProfileUrl("p"));
        using var second = new RawMcpClient(gateway.ProfileUrl("p"));
        using var third = new RawMcpClient(gateway.ProfileUrl("p"));
        await first.InitializeAsync();
        await second.InitializeAsync();

        const string initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";
        using (var refused = await third.SendAsync(initialize))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("Too many sessions", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (await first.DeleteAsync())
        {
        }

        await third.InitializeAsync(); // a slot is free again
        Assert.NotNull(third.SessionId);
    }

    [Fact]
    public async Task Sigterm_LetsTheCallInFlightFinish_ThenExits()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("drain-local")}}
            profiles:
              p: { tools: [{ server: local }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var slow = client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"local__slow","arguments":{"ms":2000}}}""");
        await gateway.Process.WaitForLineAsync(line => line.Contains("drain-local: slow call started", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        gateway.Process.Signal(15);

        var result = await slow.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("slept 2000 ms", result["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(0, await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Empty(ProcessProbe.ChildrenNamed("drain-local", withShims: true));
    }

    [Fact]
    public async Task ABadRate_IsAConfigError()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "archestra.yaml");
        await File.WriteAllTextAsync(path, "limits: { rate_per_profile: lots }\nservers: { edge: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: edge }] } }\n");
        await using var validate = ChildProcess.Start(Repository.GatewayBinary, ["validate", "--config", path]);
        Assert.Equal(1, await validate.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("limits.rate_per_profile: 'lots' is not a rate", validate.Output, StringComparison.Ordinal);
    }

    /// <summary>A gateway with only the builtin server, in profile <c>p</c>, under these <c>limits:</c> (a flow mapping's inside).</summary>
    private static Task<GatewayProcess> StartEdgeAsync(string? limits) => GatewayProcess.StartAsync(
        (limits is null ? string.Empty : $"limits: {{ {limits} }}\n") + "servers:\n  edge: { builtin: archestra }\nprofiles:\n  p: { tools: [{ server: edge }] }\n");
}
