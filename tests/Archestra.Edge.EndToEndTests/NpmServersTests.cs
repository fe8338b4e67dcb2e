using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// One profile over real npm servers (<c>server-everything</c>, <c>server-memory</c>, <c>server-filesystem</c>, all over
/// stdio) and our own test server, used by the official C# and TypeScript SDK clients.
/// </summary>
public sealed class NpmServersFixture : IAsyncLifetime
{
    internal GatewayProcess Gateway { get; private set; } = null!;

    internal string Root { get; } = Directory.CreateTempSubdirectory("archestra-fs-").FullName;

    public async Task InitializeAsync()
    {
        static string Script(string package) => Path.Combine(Repository.NpmPackage(package), "dist", "index.js");
        await File.WriteAllTextAsync(Path.Combine(Root, "readme.txt"), "served through the gateway");
        Gateway = await GatewayProcess.StartAsync($$"""
            servers:
              everything:
                process: { command: "{{Repository.Node}}", args: ["{{Script("@modelcontextprotocol/server-everything")}}", "stdio"] }
              memory:
                process:
                  command: "{{Repository.Node}}"
                  args: ["{{Script("@modelcontextprotocol/server-memory")}}"]
                  env: { MEMORY_FILE_PATH: "{{Path.Combine(Root, "memory.jsonl")}}" }
              fs:
                process: { command: "{{Repository.Node}}", args: ["{{Script("@modelcontextprotocol/server-filesystem")}}", "{{Root}}"] }
              local:
                {{TestServerProcess.StdioYaml("local")}}
            profiles:
              all:
                title: npm servers
                tools:
                  - server: everything
                    exclude: ["toggle-*", "trigger-*", "simulate-*"]
                  - server: memory
                  - server: fs
                    exclude: ["move_file", "edit_file"]
                  - server: local
                    include: [echo, identify]
                prompts: [{ server: everything }, { server: local }]
                resources: [{ server: everything }, { server: local }]
            """);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}

public sealed class NpmServersTests : IClassFixture<NpmServersFixture>
{
    private readonly NpmServersFixture _fixture;

    public NpmServersTests(NpmServersFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task CSharpClient_ListsCallsReadsAndCompletes_AcrossEveryServer()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("all"));

        var tools = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
        Assert.Contains("everything__echo", tools);
        Assert.Contains("memory__create_entities", tools);
        Assert.Contains("fs__read_text_file", tools);
        Assert.Contains("local__echo", tools);
        Assert.DoesNotContain("fs__move_file", tools);
        Assert.DoesNotContain(tools, t => t.StartsWith("everything__trigger-", StringComparison.Ordinal));

        // memory: write an entity, read the graph back.
        await client.CallToolAsync("memory__create_entities", new Dictionary<string, object?>
        {
            ["entities"] = new[] { new Dictionary<string, object?> { ["name"] = "archestra-edge", ["entityType"] = "gateway", ["observations"] = new[] { "routes MCP" } } },
        });
        Assert.Contains("routes MCP", Clients.Text(await client.CallToolAsync("memory__read_graph")));

        // filesystem: write a file inside the allowed root, read it back.
        var note = Path.Combine(_fixture.Root, "note.txt");
        await client.CallToolAsync("fs__write_file", new Dictionary<string, object?> { ["path"] = note, ["content"] = "written via MCP" });
        Assert.Equal("written via MCP", Clients.Text(await client.CallToolAsync("fs__read_text_file", new Dictionary<string, object?> { ["path"] = note })));
        Assert.Equal("written via MCP", await File.ReadAllTextAsync(note));

        // everything: tool, prompt, resource, template, completion.
        Assert.Contains("across servers", Clients.Text(await client.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = "across servers" })));
        var prompts = (await client.ListPromptsAsync()).Select(p => p.Name).ToList();
        Assert.Contains("everything__simple-prompt", prompts);
        Assert.Contains("local__test_simple_prompt", prompts);
        var prompt = await client.GetPromptAsync("everything__args-prompt", new Dictionary<string, object?> { ["city"] = "Lyon" });
        Assert.Contains("Lyon", ((TextContentBlock)prompt.Messages[0].Content).Text);

        var resources = (await client.ListResourcesAsync()).Select(r => r.Uri).ToList();
        Assert.Contains("everything+demo://resource/static/document/architecture.md", resources);
        Assert.Contains("local+test://static-text", resources);
        var document = await client.ReadResourceAsync("everything+demo://resource/static/document/architecture.md");
        Assert.Equal("everything+demo://resource/static/document/architecture.md", document.Contents[0].Uri);
        Assert.NotEmpty(((TextResourceContents)document.Contents[0]).Text);

        var templates = (await client.ListResourceTemplatesAsync()).Select(t => t.UriTemplate).ToList();
        Assert.Contains("everything+demo://resource/dynamic/text/{resourceId}", templates);
        var dynamic = await client.ReadResourceAsync("everything+demo://resource/dynamic/text/5");
        Assert.Equal("everything+demo://resource/dynamic/text/5", dynamic.Contents[0].Uri);

        var completion = await client.CompleteAsync(new PromptReference { Name = "everything__completable-prompt" }, "department", "Sa");
        Assert.Equal(["Sales"], completion.Completion.Values);
    }

    [Fact]
    public async Task TypeScriptClient_WalksTheSameProfile()
    {
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "profile-walk.mjs");
        await using var node = ChildProcess.Start(Repository.Node, [script, _fixture.Gateway.ProfileUrl("all").ToString()]);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, node.Output);
        var line = node.Output.Split('\n').Last(l => l.StartsWith('{'));
        var walk = JsonNode.Parse(line)!;

        var tools = walk["tools"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Contains("everything__echo", tools);
        Assert.Contains("memory__read_graph", tools);
        Assert.Contains("fs__list_directory", tools);
        Assert.Equal(tools.Order(StringComparer.Ordinal), tools);
        Assert.Contains("everything__completable-prompt", walk["prompts"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Contains("local+test://identity", walk["resources"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Contains("everything+demo://resource/dynamic/text/{resourceId}", walk["templates"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("from typescript", walk["echo"]!.GetValue<string>());
        Assert.Equal("ts ☕", walk["local"]!.GetValue<string>());
        Assert.Contains("Lyon", walk["prompt"]!.GetValue<string>());
        Assert.Equal("everything+demo://resource/dynamic/text/3", walk["resource"]![0]!["uri"]!.GetValue<string>());
        Assert.Equal(["Engineering"], walk["completion"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
        Assert.Equal("npm servers", walk["serverVersion"]!["title"]!.GetValue<string>());
    }
}
