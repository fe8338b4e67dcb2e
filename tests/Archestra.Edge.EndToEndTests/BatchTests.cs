using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>JSON-RPC batches, which MCP allowed in 2025-03-26 only.</summary>
public sealed class BatchTests(BatchTests.Fixture fixture) : IClassFixture<BatchTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => $$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("local")}}
            profiles:
              p: { tools: [{ server: local }] }
            """);

    [Fact]
    public async Task Batch_From2025_03_26_AnswersEveryRequest_OnOneStream()
    {
        using var client = await ClientAsync();

        using var response = await client.SendAsync("""
            [
              {"jsonrpc":"2.0","id":1,"method":"ping"},
              {"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"local__echo","arguments":{"text":"batched"}}},
              {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"local__progress","arguments":{"steps":2},"_meta":{"progressToken":"p3"}}},
              {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}},
              {"jsonrpc":"2.0","id":4},
              {"jsonrpc":"2.0","id":5,"method":"initialize","params":{}}
            ]
            """);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var messages = await RawMcpClient.ReadMessagesAsync(response);
        JsonNode ById(string id) => messages.Single(m => m["id"]?.ToJsonString() == id);

        Assert.Equal("{}", ById("1")["result"]!.ToJsonString());
        Assert.Equal("batched", ById("\"two\"")["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("done in 2 steps", ById("3")["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(-32600, ById("4")["error"]!["code"]!.GetValue<int>());
        Assert.Equal(-32600, ById("5")["error"]!["code"]!.GetValue<int>());
        var progress = messages.Where(m => m["method"]?.GetValue<string>() == "notifications/progress").ToList();
        Assert.Equal(2, progress.Count);
        Assert.True(messages.IndexOf(progress[^1]) < messages.IndexOf(ById("3")), "progress comes before its response");
        Assert.Equal(5 + 2, messages.Count);
    }

    [Fact]
    public async Task BatchOfNotificationsOnly_Is202()
    {
        using var client = await ClientAsync();
        using var response = await client.SendAsync("""[{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}},{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]""");
        Assert.Equal(202, (int)response.StatusCode);
    }

    [Fact]
    public async Task EmptyBatch_Is400InvalidRequest_AndNewerRevisionsRefuseBatches()
    {
        using var client = await ClientAsync();
        using var empty = await client.SendAsync("[]");
        Assert.Equal(400, (int)empty.StatusCode);
        Assert.Equal(-32600, (await RawMcpClient.ReadMessagesAsync(empty))[0]["error"]!["code"]!.GetValue<int>());

        using var newer = new RawMcpClient(_gateway.ProfileUrl("p"));
        await newer.InitializeAsync("2025-06-18");
        using var refused = await newer.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"ping"}]""");
        Assert.Equal(400, (int)refused.StatusCode);
    }

    private async Task<RawMcpClient> ClientAsync()
    {
        var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync("2025-03-26");
        Assert.Equal("2025-03-26", client.ProtocolVersion);
        return client;
    }
}
