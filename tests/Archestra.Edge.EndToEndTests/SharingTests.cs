using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary><c>sharing</c>: one upstream session for every client, or one per client session.</summary>
public sealed class SharingTests(SharingTests.Fixture fixture) : IClassFixture<SharingTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;
    private readonly TestServerProcess _remote = fixture.Remote;
    private readonly string _marker = fixture.Marker;

    /// <summary>One gateway for the class: its tests run one after another against it, as clients of one running service do.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal GatewayProcess Gateway { get; private set; } = null!;

        internal TestServerProcess Remote { get; private set; } = null!;

        internal string Marker { get; } = $"own-{Guid.NewGuid():N}"[..12];

        public async Task InitializeAsync()
        {
            Remote = await TestServerProcess.StartHttpAsync("remote");
            Gateway = await GatewayProcess.StartAsync($$"""
                servers:
                  remote:
                    remote: { url: "{{Remote.Url}}" }
                  shared:
                    {{TestServerProcess.StdioYaml("shared")}}
                  own:
                    {{TestServerProcess.StdioYaml(Marker)}}
                    sharing: per_session
                profiles:
                  p:
                    tools:
                      - server: remote
                        include: [sample]
                      - server: shared
                        include: [pid, sample, roots]
                      - server: own
                        include: [pid, roots, identify]
                """);
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Remote.DisposeAsync();
        }
    }

    [Fact]
    public async Task PerSession_GivesEachClientItsOwnProcess_StoppedWhenTheSessionEnds()
    {
        using var first = new RawMcpClient(_gateway.ProfileUrl("p"));
        using var second = new RawMcpClient(_gateway.ProfileUrl("p"));
        await first.InitializeAsync();
        await second.InitializeAsync();

        var firstOwn = await first.ToolTextAsync("own__pid");
        Assert.Equal(firstOwn, await first.ToolTextAsync("own__pid"));
        var secondOwn = await second.ToolTextAsync("own__pid");
        Assert.NotEqual(firstOwn, secondOwn);
        Assert.Equal(await first.ToolTextAsync("shared__pid"), await second.ToolTextAsync("shared__pid"));

        // The list came from one more (shared) process of the server; the sessions' own ones are extra.
        Assert.Contains(int.Parse(firstOwn, System.Globalization.CultureInfo.InvariantCulture), ProcessProbe.ChildrenNamed(_marker));

        using var deleted = await first.DeleteAsync();
        await Eventually.TrueAsync(() => Task.FromResult(!ProcessProbe.ChildrenNamed(_marker).Contains(int.Parse(firstOwn, System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Contains(int.Parse(secondOwn, System.Globalization.CultureInfo.InvariantCulture), ProcessProbe.ChildrenNamed(_marker));
    }

    [Fact]
    public async Task PerSession_UpstreamAsksForRoots_TheClientsOwnRootsAnswer()
    {
        var options = new McpClientOptions
        {
            Capabilities = new ClientCapabilities { Roots = new RootsCapability { ListChanged = true } },
            Handlers = new McpClientHandlers
            {
                RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work/project-a", Name = "project a" }] }),
            },
        };
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("p"), options);

        var roots = JsonNode.Parse(Clients.Text(await client.CallToolAsync("own__roots")))!;

        Assert.Equal("file:///work/project-a", roots["roots"]![0]!["uri"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoClientsSamplingAtOnce_OverOneSharedHttpUpstream_EachGetOnlyTheirOwnRequest()
    {
        // Over Streamable HTTP a server-to-client request travels on the stream of the call it belongs to: exact.
        var answers = await Task.WhenAll(SampleAsync("ada", "remote__sample"), SampleAsync("bob", "remote__sample"));

        Assert.Equal("LLM response: ada answered question of ada", answers[0]);
        Assert.Equal("LLM response: bob answered question of bob", answers[1]);
    }

    [Fact]
    public async Task TwoClientsSamplingAtOnce_OverOneSharedStdioUpstream_NeverSeeTheOthersRequest()
    {
        // stdio says nothing about which call a sampling request belongs to. With calls of two clients in flight
        // the gateway refuses to guess (the upstream gets an error); it never shows one client the other's prompt.
        for (var round = 0; round < 3; round++)
        {
            var answers = await Task.WhenAll(SampleAsync("ada", "shared__sample"), SampleAsync("bob", "shared__sample"));
            Assert.True(answers[0] is "LLM response: ada answered question of ada" || answers[0].Contains("cannot tell which client", StringComparison.Ordinal), answers[0]);
            Assert.True(answers[1] is "LLM response: bob answered question of bob" || answers[1].Contains("cannot tell which client", StringComparison.Ordinal), answers[1]);
        }

        // One client at a time is always attributed.
        Assert.Equal("LLM response: ada answered question of ada", await SampleAsync("ada", "shared__sample"));
    }

    /// <summary>Calls a sampling tool as a client that answers sampling as <paramref name="who"/> and only ever expects its own prompt.</summary>
    private async Task<string> SampleAsync(string who, string tool)
    {
        var seen = new List<string>();
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = async (request, _, cancellationToken) =>
                {
                    var text = ((TextContentBlock)request!.Messages[0].Content[0]).Text;
                    lock (seen)
                    {
                        seen.Add(text);
                    }

                    await Task.Delay(200, cancellationToken); // both requests are in flight at once
                    return new CreateMessageResult { Role = Role.Assistant, Model = who, Content = [new TextContentBlock { Text = $"{who} answered {text}" }] };
                },
            },
        };
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("p"), options);
        string result;
        try
        {
            result = Clients.Text(await client.CallToolAsync(tool, new Dictionary<string, object?> { ["prompt"] = $"question of {who}" }));
        }
        catch (ModelContextProtocol.McpException ex)
        {
            result = ex.Message;
        }

        Assert.All(seen, prompt => Assert.Equal($"question of {who}", prompt));
        return result;
    }
}
