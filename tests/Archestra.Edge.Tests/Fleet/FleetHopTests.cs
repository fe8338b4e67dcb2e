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

    /// <summary>Only the secret is read when joining; the rest of the repository is the membership's, not under test here.</summary>
    private sealed class StubRepository(byte secret) : IFleetRepository
    {
        public byte[] Secret() => Enumerable.Repeat(secret, 32).ToArray();

        public void Beat(FleetMember self, DateTimeOffset forgetBefore)
        {
        }

        public IReadOnlyList<FleetMember> Members(DateTimeOffset seenSince) => [];

        public void Leave(string instance)
        {
        }
    }
}
