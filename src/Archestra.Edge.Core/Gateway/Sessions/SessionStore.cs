using System.Collections.Concurrent;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>
/// All downstream sessions of this instance, by id. Ids are random and unguessable (never a credential); in a fleet
/// they also name this instance as their owner (<see cref="Fleet.SessionIds"/>).
/// </summary>
internal sealed class SessionStore(Fleet.SessionIds ids)
{
    private readonly ConcurrentDictionary<string, DownstreamSession> _sessions = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Fleet.SessionIds Ids => ids;

    public string NewId() => ids.NewId();

    /// <summary>Adds a session unless <paramref name="maximum"/> are already open.</summary>
    public bool TryAdd(DownstreamSession session, int maximum)
    {
        if (Interlocked.Increment(ref _count) > maximum)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _sessions[session.Id] = session;
        return true;
    }

    public bool TryGet(string id, out DownstreamSession session) => _sessions.TryGetValue(id, out session!);

    public bool TryRemove(string id, out DownstreamSession session)
    {
        if (_sessions.TryRemove(id, out session!))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    /// <summary>A moment's view of all sessions (cold paths: broadcasts, sweeps, shutdown).</summary>
    public ICollection<DownstreamSession> All => _sessions.Values;
}
