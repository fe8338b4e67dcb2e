namespace Archestra.Edge.Utilities;

/// <summary>
/// At most <c>perSecond</c> log lines a second from one noisy source (a child's stderr, an upstream writing garbage),
/// so a misbehaving server cannot flood the gateway's log and the disk behind it. One reader per budget.
/// </summary>
internal sealed class LogBudget(TimeProvider time, int perSecond)
{
    private long _windowStart = time.GetTimestamp();
    private int _count;

    public bool TryTake()
    {
        var now = time.GetTimestamp();
        if (time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _count = 0;
        }

        return ++_count <= perSecond;
    }
}
