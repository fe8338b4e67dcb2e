using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Stateless;

namespace Archestra.Edge.Tests.Gateway.Stateless;

/// <summary>Calls waiting for a 2026-07-28 client's answers: bounded, and each taken out once.</summary>
public sealed class ParkedCallsTests
{
    [Fact]
    public void Table_IsBounded_AndACallIsTakenOnce()
    {
        var parked = new ParkedCalls();
        var ids = new List<long>();
        for (var i = 0; i < ParkedCalls.MaxParked; i++)
        {
            var id = parked.Add(new RelayExchange());
            Assert.NotEqual(0, id);
            ids.Add(id);
        }

        Assert.Equal(0, parked.Add(new RelayExchange()));
        Assert.Equal(ParkedCalls.MaxParked, parked.Count);

        Assert.True(parked.TryTake(ids[0], out _));
        Assert.False(parked.TryTake(ids[0], out _));
        Assert.NotEqual(0, parked.Add(new RelayExchange()));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
