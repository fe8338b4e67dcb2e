using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// One upstream's list of one kind, fetched on first use and kept until the upstream reports a change or its
/// session is replaced. Once a list has been asked for, the cache keeps it current on its own: a failed fetch is
/// retried with back-off (so the server's items return as soon as it does), and the list of a server that never
/// announces changes is re-read every <c>list_refresh</c>. When a re-read finds different items (or the first items
/// after a failure), <see cref="Changed"/> runs so the gateway can rebuild catalogs and tell clients. A failure is
/// kept between retries, so catalogs built meanwhile leave the server out at once instead of waiting for it.
/// </summary>
internal sealed class ServerListCache : IDisposable
{
    private static readonly TimeSpan s_initialRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maximumRetry = TimeSpan.FromSeconds(30);
    private static readonly Task<bool> s_unchanged = Task.FromResult(false);

    private readonly UpstreamServer _server;
    private readonly CatalogKind _kind;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private Task<ServerList>? _current;
    private TimeSpan _retry = s_initialRetry;
    private bool _wanted;
    private Task<bool>? _refresh;
    private bool _announcedDuringRefresh;
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

    /// <summary>The list; a failed one is fetched again, and waited for (a call that needs this very server).</summary>
    public Task<ServerList> GetAsync()
    {
        var current = _current;
        if (current is not null && !IsFailure(current))
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

    /// <summary>
    /// The list for a catalog that many servers make: a failed one is returned as it is (the server is left out) while
    /// back-off retries run in the background, so one failing server never holds up the others. Only a list never
    /// fetched, or dropped after a change, is waited for.
    /// </summary>
    public Task<ServerList> GetForCatalogAsync()
    {
        var current = _current;
        return IsFailure(current) ? current! : GetAsync();
    }

    /// <summary>The list (or failure) held now, if its fetch has ended; null while it is first fetched or never asked for.</summary>
    public ServerList? Settled => _current is { IsCompletedSuccessfully: true } settled ? settled.Result : null;

    /// <summary>When the list was last read from the server (successfully or not); null if never.</summary>
    public DateTimeOffset? ReadAt { get; private set; }

    /// <summary>Whether the list was asked for and its latest fetch failed.</summary>
    public bool HasFailed => IsFailure(_current);

    /// <summary>A fetch that has ended, without a list.</summary>
    private static bool IsFailure(Task<ServerList>? fetch) => fetch is { IsCompleted: true } && fetch.Result.Failed;

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
    /// Re-reads the list now (a restarted server, a timer, a call to a server whose list failed) and reports whether
    /// it differs from the one held. Concurrent callers share one re-read. Does nothing for a list nobody asked for yet.
    /// </summary>
    public Task<bool> RefreshAsync()
    {
        lock (_lock)
        {
            if (!_wanted || _disposed)
            {
                return s_unchanged;
            }

            return _refresh ??= RefreshCoreAsync(_current);
        }
    }

    /// <summary>
    /// The server announced a change (<c>list_changed</c>): the list is read again and compared, and
    /// <see cref="Changed"/> runs only if it differs — servers announce more than changes (at start-up, while
    /// registering what depends on the client; all kinds for a change of one). Announcements during a re-read
    /// cause one more re-read after it, so the last change is never missed. A list nobody asked for is just dropped.
    /// </summary>
    public void Announced()
    {
        lock (_lock)
        {
            if (!_wanted || _disposed)
            {
                _current = null;
                return;
            }

            if (_refresh is not null)
            {
                _announcedDuringRefresh = true;
                return;
            }

            _refresh = RefreshCoreAsync(_current);
        }
    }

    private async Task<bool> RefreshCoreAsync(Task<ServerList>? previous)
    {
        // Never completes before RefreshAsync has stored it (the finally below clears it).
        await Task.Yield();
        try
        {
            var fresh = await ServerListFetcher.FetchAsync(_server, _kind, _server.Model.CallTimeout, _timeProvider).ConfigureAwait(false);
            ReadAt = _timeProvider.GetUtcNow();
            var before = previous is { IsCompletedSuccessfully: true } done ? done.Result : null;
            var changed = !fresh.Failed && (before is null || before.Failed || !before.SameItems(fresh));
            lock (_lock)
            {
                // A fresh list replaces what it was read to replace, or a failure; a fresh failure replaces only a
                // failure (its reason may be new): a list the server gave before is kept while it fails.
                var held = _current;
                if (held is null || IsFailure(held) || (!fresh.Failed && ReferenceEquals(held, previous)))
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
                _refresh = null;
                if (_announcedDuringRefresh && !_disposed)
                {
                    _announcedDuringRefresh = false;
                    _refresh = RefreshCoreAsync(_current);
                }
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
        ReadAt = _timeProvider.GetUtcNow();
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
