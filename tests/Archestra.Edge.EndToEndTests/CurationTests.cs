using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>What a profile makes of its servers' tools: filters, names, descriptions, fixed arguments, order, pages.</summary>
public sealed class CurationTests(CurationTests.Fixture fixture) : IClassFixture<CurationTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => $$"""
            limits: { list_page_size: 5 }
            servers:
              local:
                {{TestServerProcess.StdioYaml("local")}}
              a:
                {{TestServerProcess.StdioYaml("a")}}
              b:
                {{TestServerProcess.StdioYaml("b")}}
            profiles:
              curated:
                tools:
                  - server: local
                    include: [echo, identify, args, add_tool, "has*", "fresh*"]
                    rename: { identify: who }
                    describe: { echo: "Says your text back, verbatim" }
                    fixed_arguments:
                      args: { owner: acme }
              flat:
                naming: bare
                tools:
                  - server: a
                    include: [identify, echo]
                  - server: b
                    include: ["*"]
                    exclude: [crash, hang]
            """);

    [Fact]
    public async Task RenamedDescribedAndFixed_AreWhatClientsSee()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("curated"));
        var tools = await client.ListToolsAsync();
        var names = tools.Select(t => t.Name).ToList();

        Assert.Contains("local__who", names);
        Assert.DoesNotContain("local__identify", names);
        Assert.DoesNotContain("local__pid", names); // not included
        Assert.Equal(names.Order(StringComparer.Ordinal), names); // sorted, whatever the upstream order
        Assert.Equal("Says your text back, verbatim", tools.Single(t => t.Name == "local__echo").Description);

        var schema = tools.Single(t => t.Name == "local__args").JsonSchema;
        Assert.False(schema.GetProperty("properties").TryGetProperty("owner", out _));
        Assert.True(schema.GetProperty("properties").TryGetProperty("title", out _));
        Assert.Equal(["title"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToArray());

        Assert.Equal("local", Clients.Text(await client.CallToolAsync("local__who")));
    }

    [Fact]
    public async Task FixedArguments_AreInjected_AndCannotBeOverridden()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("curated"));

        var overridden = JsonNode.Parse(Clients.Text(await client.CallToolAsync("local__args", new Dictionary<string, object?> { ["owner"] = "evil", ["title"] = "t" })))!;
        Assert.Equal("acme", overridden["owner"]!.GetValue<string>());
        Assert.Equal("t", overridden["title"]!.GetValue<string>());

        using var raw = new RawMcpClient(_gateway.ProfileUrl("curated"));
        await raw.InitializeAsync();
        var bare = await raw.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"local__args"}}""");
        Assert.Equal("""{"owner":"acme"}""", bare["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var wrong = await raw.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"local__args","arguments":["owner"]}}""");
        Assert.Equal(-32602, wrong["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task BareNames_FromTwoServers_FirstServerInConfigOrderWins()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("flat"));
        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();

        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains("identify", names);
        Assert.Contains("pid", names); // only b has it in this profile
        Assert.DoesNotContain("crash", names);
        Assert.Equal("a", Clients.Text(await client.CallToolAsync("identify")));
    }

    [Fact]
    public async Task UpstreamNamesOutsideTheAlphabet_AreRepaired_AndStillReachTheirTool()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("curated"));
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            changed.TrySetResult();
            return ValueTask.CompletedTask;
        });

        await client.CallToolAsync("local__add_tool", new Dictionary<string, object?> { ["name"] = "has space/and:colon" });
        await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
        Assert.Contains("local__has_space_and_colon", names);
        Assert.All(names, n => Assert.Matches("^[A-Za-z0-9_.-]{1,128}$", n));
        Assert.Equal("dynamic tool has space/and:colon called", Clients.Text(await client.CallToolAsync("local__has_space_and_colon")));
    }

    [Fact]
    public async Task Lists_ArePaged_WithOpaqueCursors_ThatExpireWhenTheListChanges()
    {
        using var raw = new RawMcpClient(_gateway.ProfileUrl("flat"));
        await raw.InitializeAsync();
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        string? firstCursor = null;
        do
        {
            var parameters = cursor is null ? "{}" : $"{{\"cursor\":\"{cursor}\"}}";
            var page = await raw.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{pages + 1},\"method\":\"tools/list\",\"params\":{parameters}}}");
            var tools = page["result"]!["tools"]!.AsArray();
            Assert.InRange(tools.Count, 1, 5);
            seen.AddRange(tools.Select(t => t!["name"]!.GetValue<string>()));
            cursor = page["result"]!["nextCursor"]?.GetValue<string>();
            firstCursor ??= cursor;
            pages++;
        }
        while (cursor is not null);

        Assert.True(pages > 2);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);

        // The SDK client follows the cursors and sees the same list.
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("flat"));
        Assert.Equal(seen, (await client.ListToolsAsync()).Select(t => t.Name).ToList());

        // Garbage and stale cursors are refused with -32602.
        var garbage = await raw.RequestAsync("""{"jsonrpc":"2.0","id":90,"method":"tools/list","params":{"cursor":"not-ours"}}""");
        Assert.Equal(-32602, garbage["error"]!["code"]!.GetValue<int>());
        await client.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "aaa_new_first" });
        await Eventually.TrueAsync(async () => (await client.ListToolsAsync()).Any(t => t.Name == "aaa_new_first"));
        var stale = await raw.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":91,\"method\":\"tools/list\",\"params\":{{\"cursor\":\"{firstCursor}\"}}}}");
        Assert.Equal(-32602, stale["error"]!["code"]!.GetValue<int>());
        Assert.Contains("list again", stale["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
