using Archestra.Edge.Fleet;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Tests.Fleet;

public sealed class FleetHopTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ASeal_HoldsForTheRequestItWasMadeFor_FromAnotherInstance_ForThirtySeconds()
    {
        var (sender, receiver) = (Node(), Node());
        var request = Request("POST", "/v1/mcp/p", "session-1");
        request.Headers[FleetHop.Header] = FleetHop.Seal(sender, "POST", "/v1/mcp/p", "session-1", Now);

        Assert.True(FleetHop.IsSealed(receiver, request, Now.AddSeconds(29)));
        Assert.False(FleetHop.IsSealed(receiver, request, Now.AddSeconds(31)));   // stale
        Assert.False(FleetHop.IsSealed(sender, request, Now));                    // from itself: a loop, not a hop
        Assert.False(FleetHop.IsSealed(Node(secret: 9), request, Now));           // another fleet

        request.Headers[Archestra.Edge.Protocol.Mcp.McpHeaders.SessionId] = "session-2";         // moved to another session
        Assert.False(FleetHop.IsSealed(receiver, request, Now));
    }

    [Fact]
    public void AMadeUpSeal_OrNone_IsAnOrdinaryRequest()
    {
        var receiver = Node();
        var request = Request("GET", "/v1/mcp/p", "s");
        Assert.False(FleetHop.IsSealed(receiver, request, Now));
        request.Headers[FleetHop.Header] = "0102030405060708.1796644800.AAAAAAAAAAAAAAAAAAAAAA";
        Assert.False(FleetHop.IsSealed(receiver, request, Now));
        request.Headers[FleetHop.Header] = "garbage";
        Assert.False(FleetHop.IsSealed(receiver, request, Now));
    }

    [Fact]
    public async Task ARequestForwardedOnce_IsNeverForwardedAgain_EvenToALiveOwner()
    {
        // The owner is live, at an address that would take seconds to give up on (a black hole).
        var owner = "0303030303030303";
        var repository = new StubRepository(7) { Live = [new FleetMember(owner, new Uri("http://10.255.255.1:9000"), "1", "f", Now, Now)] };
        var (sender, receiver) = (Node(), FleetNode.Join(repository, FleetNode.NewInstance(), new Uri("http://127.0.0.1:1"), () => "f", TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.True(receiver.Membership!.Beat());
        Assert.True(receiver.Membership.TryGetLive(owner, out _));

        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/v1/mcp/p";
        context.Request.Headers[Archestra.Edge.Protocol.Mcp.McpHeaders.SessionId] = "session-of-another";
        context.Request.Headers[FleetHop.Header] = FleetHop.Seal(sender, "POST", "/v1/mcp/p", "session-of-another", DateTimeOffset.UtcNow);

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(ForwardOutcome.OwnerGone, await receiver.Forwarder!.ForwardAsync(context, owner, "{}"u8.ToArray()));
        Assert.True(started.Elapsed < TimeSpan.FromMilliseconds(500), $"took {started.Elapsed}: it tried to connect");
        Assert.Equal((0, 1), (receiver.Forwarder.Forwarded, receiver.Forwarder.OwnerGone));
    }

    private static FleetNode Node(byte secret = 7)
        => FleetNode.Join(new StubRepository(secret), FleetNode.NewInstance(), new Uri("http://127.0.0.1:1"), () => "f", TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    private static HttpRequest Request(string method, string path, string session)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Headers[Archestra.Edge.Protocol.Mcp.McpHeaders.SessionId] = session;
        return context.Request;
    }

    /// <summary>The secret, and the members it is told to report as live.</summary>
    private sealed class StubRepository(byte secret) : IFleetRepository
    {
        public byte[] Secret() => Enumerable.Repeat(secret, 32).ToArray();

        public void Beat(FleetMember self, DateTimeOffset forgetBefore)
        {
        }

        public IReadOnlyList<FleetMember> Live { get; init; } = [];

        public IReadOnlyList<FleetMember> Members(DateTimeOffset seenSince) => Live;

        public void Leave(string instance)
        {
        }
    }
}
