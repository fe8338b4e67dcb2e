using System.Collections.Concurrent;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>All downstream sessions, by id. Ids are 256-bit random, base64url (never guessable, never a credential).</summary>
internal sealed class SessionStore
{
    private readonly ConcurrentDictionary<string, DownstreamSession> _sessions = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[32];
        Utilities.SecureRandom.Fill(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

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
