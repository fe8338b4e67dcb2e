using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary><c>replicas</c>: several processes of one server share its calls.</summary>
public sealed class ReplicaTests
{
    [Fact]
    public async Task Calls_AreSpreadOverEveryReplica()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              pool:
                {{TestServerProcess.StdioYaml("pool")}}
                replicas: 3
            profiles:
              p: { tools: [{ server: pool }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var pids = new HashSet<string>();
        for (var i = 0; i < 30 && pids.Count < 3; i++)
        {
            var response = await client.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"pool__pid\",\"arguments\":{{}}}}}}");
            pids.Add(response["result"]!["content"]![0]!["text"]!.GetValue<string>());
        }

        Assert.Equal(3, pids.Count);
        var children = CliTests.ChildrenNamed("--name pool");
        Assert.Equal(3, children.Count);
    }
}
