using Archestra.Edge.Fleet;

namespace Archestra.Edge.Tests.Fleet;

public sealed class SessionIdsTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] A = [1, 1, 1, 1, 1, 1, 1, 1];
    private static readonly byte[] B = [2, 2, 2, 2, 2, 2, 2, 2];

    [Fact]
    public void AFleetId_NamesItsOwner_ToTheOtherInstances_AndNotToItself()
    {
        var onA = SessionIds.ForFleet(A, Key);
        var onB = SessionIds.ForFleet(B, Key);
        var id = onA.NewId();

        Assert.Equal(44, id.Length);
        Assert.Matches("^[A-Za-z0-9_-]+$", id); // visible ASCII, as Mcp-Session-Id must be
        Assert.True(onB.TryGetOtherOwner(id, out var owner));
        Assert.Equal("0101010101010101", owner);
        Assert.False(onA.TryGetOtherOwner(id, out _)); // its own: served here
        Assert.NotEqual(id, onA.NewId());
    }

    [Fact]
    public void AnAlteredOrForeignOrMadeUpId_NamesNoOwner()
    {
        var onA = SessionIds.ForFleet(A, Key);
        var onB = SessionIds.ForFleet(B, Key);
        var id = onA.NewId();

        var altered = id[..5] + (id[5] == 'A' ? 'B' : 'A') + id[6..];
        Assert.False(onB.TryGetOtherOwner(altered, out _));
        Assert.False(SessionIds.ForFleet(B, new byte[32]).TryGetOtherOwner(id, out _)); // another fleet's key
        Assert.False(onB.TryGetOtherOwner(SessionIds.Standalone.NewId(), out _));
        Assert.False(onB.TryGetOtherOwner("not-a-session", out _));
        Assert.False(onB.TryGetOtherOwner(new string('A', 44), out _));
        Assert.False(SessionIds.Standalone.TryGetOtherOwner(id, out _)); // alone, nothing is forwarded
    }
}
