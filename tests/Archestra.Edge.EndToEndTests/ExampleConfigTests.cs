using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The shipped example as a newcomer runs it: copied as it is, served, and its "npm" profile used — two real npm
/// servers started with npx on first use (fetched from the npm feed, as on a user's machine), their tools under
/// one endpoint, the filesystem's write tools curated away.
/// </summary>
public sealed class ExampleConfigTests
{
    [Fact]
    public async Task TheExamplesNpmProfile_ServesRealServers_ReadOnlyFiles_AndAKnowledgeGraph()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-example-").FullName;
        var config = Path.Combine(directory, "archestra.yaml");
        File.Copy(Path.Combine(Repository.Root, "archestra.yaml.example"), config);
        await File.WriteAllTextAsync(Path.Combine(directory, "notes.txt"), "seen through the gateway");

        // npx needs node on PATH; the test tools bring Node 22.
        var environment = new Dictionary<string, string> { ["PATH"] = $"{Path.GetDirectoryName(Repository.Node)}:{Environment.GetEnvironmentVariable("PATH")}" };
        await using var gateway = await GatewayProcess.StartAtAsync(config, environment: environment);
        using var client = new RawMcpClient(gateway.ProfileUrl("npm"));
        await client.InitializeAsync();

        string[] tools = [];
        await Eventually.TrueAsync(async () =>
        {
            var list = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
            tools = [.. list["result"]?["tools"]?.AsArray().Select(t => t!["name"]!.GetValue<string>()) ?? []];
            return tools.Contains("memory__read_graph") && tools.Contains("files__read_text_file");
        }, seconds: 180, because: () => gateway.Process.Output);
        Assert.DoesNotContain("files__write_file", tools);
        Assert.DoesNotContain("files__edit_file", tools);

        var read = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"files__read_text_file","arguments":{"path":"notes.txt"}}}""");
        Assert.Contains("seen through the gateway", read.ToJsonString(), StringComparison.Ordinal);

        // The graph file lives in npx's cache, shared by every run on this machine: an entity of this run's own.
        var entity = $"edge-{Guid.NewGuid():N}";
        var created = await client.RequestAsync("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"memory__create_entities\",\"arguments\":{\"entities\":[{\"name\":\"" + entity + "\",\"entityType\":\"gateway\",\"observations\":[\"first ten minutes\"]}]}}}");
        Assert.True(created["result"]?["isError"]?.GetValue<bool>() != true, created.ToJsonString());
        var graph = await client.RequestAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"memory__read_graph","arguments":{}}}""");
        Assert.Contains(entity, graph.ToJsonString(), StringComparison.Ordinal);

        // The default profile is the gateway's own tools only: it never started the npm servers for itself.
        using var plain = new RawMcpClient(gateway.ProfileUrl("default"));
        await plain.InitializeAsync();
        Assert.Contains("edge__whoami", (await plain.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""")).ToJsonString(), StringComparison.Ordinal);
    }
}
