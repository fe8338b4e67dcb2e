using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway;

/// <summary>
/// Which sessions subscribed to which resource of which server. The upstream is subscribed once, when the
/// first session subscribes, and unsubscribed when the last one leaves; its updates fan out to exactly the
/// subscribed sessions.
/// </summary>
internal sealed class ResourceSubscriptions
{
    private readonly Dictionary<(UpstreamServer Server, string Uri), HashSet<DownstreamSession>> _subscribers = [];
    private readonly Lock _lock = new();

    /// <summary>Adds a subscriber; true when it is the first, so the upstream must be subscribed.</summary>
    public bool Add(UpstreamServer server, string uri, DownstreamSession session)
    {
        lock (_lock)
        {
            if (!_subscribers.TryGetValue((server, uri), out var sessions))
            {
                sessions = [];
                _subscribers[(server, uri)] = sessions;
            }

            sessions.Add(session);
            return sessions.Count == 1;
        }
    }

    /// <summary>Removes a subscriber; true when it was the last, so the upstream must be unsubscribed.</summary>
    public bool Remove(UpstreamServer server, string uri, DownstreamSession session)
    {
        lock (_lock)
        {
            if (!_subscribers.TryGetValue((server, uri), out var sessions) || !sessions.Remove(session))
            {
                return false;
            }

            if (sessions.Count == 0)
            {
                _subscribers.Remove((server, uri));
                return true;
            }

            return false;
        }
    }

    public DownstreamSession[] SubscribersOf(UpstreamServer server, string uri)
    {
        lock (_lock)
        {
            return _subscribers.TryGetValue((server, uri), out var sessions) ? [.. sessions] : [];
        }
    }

    /// <summary>The URIs of <paramref name="server"/> that any session is subscribed to.</summary>
    public List<string> UrisOf(UpstreamServer server)
    {
        var uris = new List<string>();
        lock (_lock)
        {
            foreach (var (key, _) in _subscribers)
            {
                if (ReferenceEquals(key.Server, server))
                {
                    uris.Add(key.Uri);
                }
            }
        }

        return uris;
    }

    /// <summary>The URIs of <paramref name="server"/> that <paramref name="session"/> is subscribed to.</summary>
    public List<string> UrisOf(UpstreamServer server, DownstreamSession session)
    {
        var uris = new List<string>();
        lock (_lock)
        {
            foreach (var (key, sessions) in _subscribers)
            {
                if (ReferenceEquals(key.Server, server) && sessions.Contains(session))
                {
                    uris.Add(key.Uri);
                }
            }
        }

        return uris;
    }

    /// <summary>Removes a session everywhere; returns the subscriptions it was the last subscriber of.</summary>
    public List<(UpstreamServer Server, string Uri)> RemoveSession(DownstreamSession session)
    {
        var orphaned = new List<(UpstreamServer, string)>();
        lock (_lock)
        {
            foreach (var (key, sessions) in _subscribers)
            {
                if (sessions.Remove(session) && sessions.Count == 0)
                {
                    orphaned.Add(key);
                }
            }

            foreach (var key in orphaned)
            {
                _subscribers.Remove(key);
            }
        }

        return orphaned;
    }

    /// <summary>Forgets every subscription to a server that a reload stopped.</summary>
    public void RemoveServer(UpstreamServer server)
    {
        lock (_lock)
        {
            var gone = new List<(UpstreamServer, string)>();
            foreach (var (key, _) in _subscribers)
            {
                if (ReferenceEquals(key.Item1, server))
                {
                    gone.Add(key);
                }
            }

            foreach (var key in gone)
            {
                _subscribers.Remove(key);
            }
        }
    }
}
