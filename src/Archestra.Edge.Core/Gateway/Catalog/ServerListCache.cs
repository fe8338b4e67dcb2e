using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// One upstream's list of one kind, fetched on first use and kept until the upstream reports a change or its
/// session is replaced. Failed fetches are not kept. Once a list has been asked for, the cache keeps it current on
/// its own: a failed fetch is retried with back-off (so the server's items return as soon as it does), and the list
/// of a server that never announces changes is re-read every <c>list_refresh</c>. When a re-read finds different
/// items, <see cref="Changed"/> runs so the gateway can rebuild catalogs and tell clients.
/// </summary>
internal sealed class ServerListCache : IDisposable
{
    private static readonly TimeSpan s_initialRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maximumRetry = TimeSpan.FromSeconds(30);

    private readonly UpstreamServer _server;
    private readonly CatalogKind _kind;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private Task<ServerList>? _current;
    private TimeSpan _retry = s_initialRetry;
    private bool _wanted;
    private bool _refreshing;
    private bool _disposed;

    public ServerListCache(UpstreamServer server, CatalogKind kind, TimeProvider timeProvider)
    {
        _server = server;
        _kind = kind;
        _timeProvider = timeProvider;
        _timer = timeProvider.CreateTimer(static state => _ = ((ServerListCache)state!).RefreshAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public UpstreamServer Server => _server;

    public CatalogKind Kind => _kind;

    /// <summary>Runs (on a pool thread) after a background re-read found a different list.</summary>
    public Action<ServerListCache>? Changed { get; set; }

    public Task<ServerList> GetAsync()
    {
        var current = _current;
        if (current is not null && !(current.IsCompleted && current.Result.Failed))
        {
            return current;
        }

        lock (_lock)
        {
            _wanted = true;
            if (_current is null || _current == current)
            {
                _current = FetchAsync();
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

    /// <summary>
    /// Re-reads the list now (a restarted server, a timer) and reports whether it differs from the one held.
    /// Does nothing for a list nobody asked for yet.
    /// </summary>
    public async Task<bool> RefreshAsync()
    {
        Task<ServerList>? previous;
        lock (_lock)
        {
            if (!_wanted || _disposed || _refreshing)
            {
                return false;
            }

            _refreshing = true;
            previous = _current;
        }

        try
        {
            var fresh = await ServerListFetcher.FetchAsync(_server, _kind, _server.Model.CallTimeout, _timeProvider).ConfigureAwait(false);
            var before = previous is { IsCompletedSuccessfully: true } done ? done.Result : null;
            var changed = !fresh.Failed && (before is null || !before.SameItems(fresh));
            lock (_lock)
            {
                if (!fresh.Failed && (_current is null || ReferenceEquals(_current, previous) || _current.IsCompleted && _current.Result.Failed))
                {
                    _current = Task.FromResult(fresh);
                }
            }

            Schedule(fresh);
            if (changed)
            {
                Changed?.Invoke(this);
            }

            return changed;
        }
        finally
        {
            lock (_lock)
            {
                _refreshing = false;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    private async Task<ServerList> FetchAsync()
    {
        var list = await ServerListFetcher.FetchAsync(_server, _kind, _server.Model.CallTimeout, _timeProvider).ConfigureAwait(false);
        Schedule(list);
        return list;
    }

    /// <summary>Arms the timer: a retry after a failure, a re-read for servers that do not announce changes, else nothing.</summary>
    private void Schedule(ServerList list)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (list.Failed)
            {
                _timer.Change(_retry, Timeout.InfiniteTimeSpan);
                _retry = _retry * 2 > s_maximumRetry ? s_maximumRetry : _retry * 2;
                return;
            }

            _retry = s_initialRetry;
            var refresh = _server.Model.ListRefresh;
            _timer.Change(!list.AnnouncesChanges && refresh is { } every ? every : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
