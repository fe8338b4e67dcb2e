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

        // Calls never wait for a sibling to start: the one whose turn it is starts in the background while a
        // running one answers, so all three take calls once they are up.
        var pids = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (var i = 0; pids.Count < 3 && DateTime.UtcNow < deadline; i++)
        {
            var response = await client.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"pool__pid\",\"arguments\":{{}}}}}}");
            pids.Add(response["result"]!["content"]![0]!["text"]!.GetValue<string>());
            await Task.Delay(20);
        }

        Assert.Equal(3, pids.Count);
        var children = ProcessProbe.ChildrenNamed("--name pool");
        Assert.Equal(3, children.Count);
    }
}
