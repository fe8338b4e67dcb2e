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
