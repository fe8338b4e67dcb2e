using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// One upstream's list of one kind, fetched on first use and kept until the upstream reports a change (or its
/// session is replaced). Failed fetches are not kept, so the list returns as soon as the server does.
/// </summary>
internal sealed class ServerListCache
{
    private readonly UpstreamServer _server;
    private readonly CatalogKind _kind;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private Task<ServerList>? _current;

    public ServerListCache(UpstreamServer server, CatalogKind kind, TimeProvider timeProvider)
    {
        _server = server;
        _kind = kind;
        _timeProvider = timeProvider;
    }

    public UpstreamServer Server => _server;

    public CatalogKind Kind => _kind;

    public Task<ServerList> GetAsync()
    {
        var current = _current;
        if (current is not null && !(current.IsCompleted && current.Result.Failed))
        {
            return current;
        }

        lock (_lock)
        {
            if (_current is null || _current == current)
            {
                _current = ServerListFetcher.FetchAsync(_server, _kind, _server.Model.CallTimeout, _timeProvider);
            }

            return _current;
        }
    }

    /// <summary>Forgets the list; the next use fetches it again. True if a list had been fetched.</summary>
    public bool Invalidate()
    {
        lock (_lock)
        {
            var had = _current is not null;
            _current = null;
            return had;
        }
    }
}
