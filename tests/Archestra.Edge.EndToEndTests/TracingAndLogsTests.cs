using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>OpenTelemetry spans over OTLP/HTTP to a real (loopback) receiver, and JSON log lines.</summary>
public sealed class TracingAndLogsTests
{
    [Fact]
    public async Task EachRelayedCall_IsASpan_ChildOfTheClientsTraceparent_SentOverOtlp()
    {
        using var collector = new HttpListener();
        var port = FreePort();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var received = ReceiveAsync(collector);

        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("traced-local")}}
            profiles:
              p: { tools: [{ server: local }] }
            observability:
              tracing: { otlp_endpoint: "http://127.0.0.1:{{port}}", service_name: edge-under-test, headers: { X-Collector-Key: k1 } }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string parentId = "00f067aa0ba902b7";
        using var call = await client.SendAsync("""{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"local__echo","arguments":{"text":"hi"}}}""",
            headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{parentId}-01" });
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);

        var (path, key, body) = await received.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("/v1/traces", path);
        Assert.Equal("k1", key);
        var resource = body["resourceSpans"]![0]!;
        Assert.Contains(resource["resource"]!["attributes"]!.AsArray(), a => a!["key"]!.GetValue<string>() == "service.name" && a["value"]!["stringValue"]!.GetValue<string>() == "edge-under-test");
        var span = resource["scopeSpans"]![0]!["spans"]![0]!;
        Assert.Equal("tools/call echo", span["name"]!.GetValue<string>());
        Assert.Equal(traceId, span["traceId"]!.GetValue<string>());
        Assert.Equal(parentId, span["parentSpanId"]!.GetValue<string>());
        Assert.Equal(2, span["kind"]!.GetValue<int>()); // server
        Assert.Equal(1, span["status"]!["code"]!.GetValue<int>()); // ok
        Assert.True(ulong.Parse(span["endTimeUnixNano"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > ulong.Parse(span["startTimeUnixNano"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        var attributes = span["attributes"]!.AsArray().ToDictionary(a => a!["key"]!.GetValue<string>(), a => a!["value"]!["stringValue"]?.GetValue<string>());
        Assert.Equal("p", attributes["archestra.profile"]);
        Assert.Equal("local", attributes["archestra.server"]);
        Assert.Equal("echo", attributes["gen_ai.tool.name"]);
        Assert.Equal("tools/call", attributes["mcp.method.name"]);
        Assert.Equal("ok", attributes["archestra.outcome"]);
        Assert.Equal(client.SessionId, attributes["mcp.session.id"]);
    }

    [Fact]
    public async Task JsonLogs_AreOneJsonObjectPerLine_WithStableEventIds()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-json-").FullName;
        var config = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(config, """
            servers: { edge: { builtin: archestra } }
            profiles: { p: { tools: [{ server: edge }] } }
            observability: { logs: { format: json } }
            """);
        await using var gateway = ChildProcess.Start(Repository.GatewayBinary, ["serve", "--config", config, "--listen", "http://127.0.0.1:0"], workingDirectory: directory);
        var listening = JsonNode.Parse(await gateway.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))!;
        Assert.Equal(3, listening["EventId"]!.GetValue<int>());
        using (var client = new RawMcpClient(new Uri(new Uri(listening["url"]!.GetValue<string>()), "/v1/mcp/p")))
        {
            await client.InitializeAsync(); // logs a session event
        }

        gateway.Signal(15);
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var lines = gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 3, gateway.Output);
        foreach (var line in lines)
        {
            var entry = JsonNode.Parse(line)!; // every line parses
            Assert.NotNull(entry["EventId"]);
            Assert.NotNull(entry["Message"]);
        }

        Assert.Contains(lines, line => JsonNode.Parse(line)!["EventId"]!.GetValue<int>() == 100); // SessionCreated
    }

    private static async Task<(string Path, string? Key, JsonNode Body)> ReceiveAsync(HttpListener collector)
    {
        var context = await collector.GetContextAsync();
        using var reader = new StreamReader(context.Request.InputStream);
        var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
        var result = (context.Request.Url!.AbsolutePath, context.Request.Headers["X-Collector-Key"], body);
        context.Response.StatusCode = 200;
        context.Response.Close();
        return result;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
