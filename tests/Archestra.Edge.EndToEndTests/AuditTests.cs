using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The audit trail: who called what, where, with which outcome, how long and how big; arguments redacted by default;
/// flushed when the gateway stops; read back with <c>audit tail|export</c>.
/// </summary>
public sealed class AuditTests
{
    private const string Alice = "archestra_alice-audit-token-000000000000000000000000";
    private const string Secret = "hunter2-do-not-store";

    [Fact]
    public async Task EveryCall_IsRecorded_WithWho_AndRedactedArguments_FlushedOnStop()
    {
        var (records, database) = await RunAndExportAsync("redacted");

        var echo = records.Single(r => r["item"]!.GetValue<string>() == "echo");
        Assert.Equal("user:alice", echo["principal"]!.GetValue<string>());
        Assert.Equal("p", echo["profile"]!.GetValue<string>());
        Assert.Equal("local", echo["server"]!.GetValue<string>());
        Assert.Equal("tools/call", echo["method"]!.GetValue<string>());
        Assert.Equal("ok", echo["outcome"]!.GetValue<string>());
        Assert.True(echo["duration_ms"]!.GetValue<double>() > 0);
        Assert.True(echo["request_bytes"]!.GetValue<long>() > 50);
        Assert.True(echo["response_bytes"]!.GetValue<long>() > 20);
        Assert.Equal("""{"text":"[redacted]","count":"[redacted]"}""", echo["arguments"]!.ToJsonString());

        var unknown = records.Single(r => r["outcome"]!.GetValue<string>() == "rejected");
        Assert.Equal("", unknown["server"]!.GetValue<string>());

        Assert.DoesNotContain(Secret, database, StringComparison.Ordinal); // not in the file, not even in its WAL
    }

    [Fact]
    public async Task Full_KeepsArguments_None_KeepsNothing()
    {
        var (full, _) = await RunAndExportAsync("full");
        Assert.Equal(Secret, full.Single(r => r["item"]!.GetValue<string>() == "echo")["arguments"]!["text"]!.GetValue<string>());

        var (none, database) = await RunAndExportAsync("none");
        Assert.Null(none.Single(r => r["item"]!.GetValue<string>() == "echo")["arguments"]);
        Assert.DoesNotContain(Secret, database, StringComparison.Ordinal);
    }

    /// <summary>Runs two calls as Alice, stops the gateway with SIGTERM, and exports the trail as JSON lines.</summary>
    private static async Task<(List<JsonNode> Records, string Database)> RunAndExportAsync(string arguments)
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            users: { alice: {} }
            servers:
              local:
                {{TestServerProcess.StdioYaml("audit-local")}}
            profiles:
              p: { tools: [{ server: local }], access: { users: [alice] } }
            auth:
              bearer: { tokens: [{ name: alice, sha256: {{AuthFixture.Sha(Alice)}}, scope: "user:alice" }] }
              oauth: { authorization_server: none }
            observability:
              audit: { arguments: {{arguments}}, retention: 7d }
            """);
        using (var client = new RawMcpClient(gateway.ProfileUrl("p")) { BearerToken = Alice })
        {
            await client.InitializeAsync();
            var call = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"local__echo","arguments":{"text":"SECRET","count":3}}}""";
            var result = await client.RequestAsync(call.Replace("SECRET", Secret, StringComparison.Ordinal));
            Assert.Null(result["error"]);
            await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"local__missing","arguments":{}}}""");
        }

        gateway.Process.Signal(15); // the trail is written in the background; stopping flushes it
        Assert.Equal(0, await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        await using var export = ChildProcess.Start(Repository.GatewayBinary, ["audit", "export", "--config", gateway.ConfigPath, "--since", "1h"]);
        Assert.Equal(0, await export.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var records = export.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).ToList();
        Assert.Equal(2, records.Count);

        await using var tail = ChildProcess.Start(Repository.GatewayBinary, ["audit", "tail", "-n", "1", "--config", gateway.ConfigPath]);
        Assert.Equal(0, await tail.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var lines = tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // the header and the newest record
        Assert.Contains("rejected", lines[1], StringComparison.Ordinal);

        var data = Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "data");
        var database = string.Concat(Directory.GetFiles(data, "archestra.db*").Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        return (records, database);
    }
}
