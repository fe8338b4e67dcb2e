using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// SEP-1699 towards upstreams: a server that closes a call's event stream after an event id is resumed with GET and
/// <c>Last-Event-ID</c> after its <c>retry</c>, and the call gets the answer that comes there.
/// </summary>
public sealed class StreamResumptionTests
{
    [Fact]
    public async Task AStreamClosedAfterItsPrimingEvent_IsResumedWithLastEventId_AndTheCallIsAnswered()
    {
        await using var upstream = await ResumableStreamUpstream.StartAsync();
        await using var gateway = await GatewayProcess.InFrontOfAsync("resumable", upstream.Url);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

        var result = await client.CallToolAsync("resumable__wait").AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("resumed after call-1-0", Clients.Text(result));
        Assert.Equal(["call-1-0"], upstream.Resumptions);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task TheTypeScriptSdksCloseSseStream_IsResumed_ForClientsOfEitherEra(string clientVersion)
    {
        // The official TypeScript SDK server with an event store, whose tool calls closeSSEStream() mid-call.
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "polling-server.mjs");
        await using var server = ChildProcess.Start(Repository.Node, [script], workingDirectory: Path.Combine(Repository.Root, "tests", "node"));
        var line = await server.WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await using var gateway = await GatewayProcess.InFrontOfAsync("polling", new Uri(line["listening on ".Length..].Trim()));
        var options = new ModelContextProtocol.Client.McpClientOptions { ProtocolVersion = clientVersion };
        await using var client = clientVersion == "2026-07-28"
            ? await Clients.ConnectModernAsync(gateway.ProfileUrl("p"), options)
            : await Clients.ConnectAsync(gateway.ProfileUrl("p"), options);

        var result = await client.CallToolAsync("polling__poll").AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("answered after the stream was closed (closed)", Clients.Text(result));
    }

    [Fact]
    public async Task AServerThatRefusesTheResumption_FailsTheCallWithTheReason()
    {
        await using var upstream = await ResumableStreamUpstream.StartAsync(refuseResumption: true);
        await using var gateway = await GatewayProcess.InFrontOfAsync("resumable", upstream.Url);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("resumable__wait").AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("resuming it failed: HTTP 405", error.Message, StringComparison.Ordinal);
    }
}
