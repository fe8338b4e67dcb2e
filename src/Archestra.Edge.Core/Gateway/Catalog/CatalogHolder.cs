using System.Collections.Immutable;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// A profile's catalog of one kind: built on first use from the member servers' cached lists, kept while it is
/// complete and current, rebuilt after any member list changes. Readers take the cached catalog with one
/// volatile read.
/// </summary>
internal sealed partial class CatalogHolder
{
    private readonly CatalogKind _kind;
    private readonly ProfileModel _profile;
    private readonly ImmutableArray<(AssignmentModel Assignment, ServerListCache Cache)> _sources;
    private readonly ILogger _logger;
    private readonly Pinning.SourcePins?[] _pins;
    private readonly Pinning.PinReporter? _pinReports;
    private readonly Lock _lock = new();
    private volatile Catalog? _catalog;
    private Provisional? _provisional;
    private Task<Catalog>? _building;
    private int _generation;
    private int _dropped;
    private long _droppedTotal;

    public CatalogHolder(CatalogKind kind, ProfileModel profile, ImmutableArray<(AssignmentModel Assignment, ServerListCache Cache)> sources, ILogger logger,
        PinLock? pins = null, Pinning.PinReporter? pinReports = null)
    {
        _kind = kind;
        _profile = profile;
        _sources = sources;
        _logger = logger;
        _pinReports = pinReports;
        _pins = new Pinning.SourcePins?[sources.Length];
        for (var i = 0; i < sources.Length; i++)
        {
            var server = sources[i].Cache.Server.Model;
            if (pins is not null && server.Pinning != PinningMode.Off && kind is CatalogKind.Tools or CatalogKind.Prompts)
            {
                var entry = pins.For(server.Name);
                _pins[i] = new Pinning.SourcePins(server.Pinning, kind == CatalogKind.Tools ? entry.Tools : entry.Prompts);
            }
        }
    }

    public CatalogKind Kind => _kind;

    public ProfileModel Profile => _profile;

    /// <summary>Items left out of the latest catalog because another server's item took their exposed name.</summary>
    public int DroppedItems => Volatile.Read(ref _dropped);

    /// <summary>Dropped items summed over every build (a counter for metrics).</summary>
    public long DroppedItemsTotal => Interlocked.Read(ref _droppedTotal);

    public ImmutableArray<(AssignmentModel Assignment, ServerListCache Cache)> Sources => _sources;

    public bool Uses(ServerListCache cache)
    {
        foreach (var source in _sources)
        {
            if (ReferenceEquals(source.Cache, cache))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The catalog built last, if any (nothing is fetched or started for it).</summary>
    public Catalog? Current => _catalog;

    public ValueTask<Catalog> GetAsync()
    {
        var catalog = _catalog;
        return catalog is not null ? ValueTask.FromResult(catalog) : new ValueTask<Catalog>(GetSlowAsync());
    }

    /// <summary>Drops the cached catalog; the next request rebuilds it from the (re)fetched lists.</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _generation++;
            _catalog = null;
            _building = null;
            _provisional = null;
        }
    }

    private Task<Catalog> GetSlowAsync()
    {
        lock (_lock)
        {
            if (_catalog is { } ready)
            {
                return Task.FromResult(ready);
            }

            return _building ??= BuildAsync(_generation);
        }
    }

    private async Task<Catalog> BuildAsync(int generation)
    {
        // Fetch every member list at once; a slow server costs its own time, not the sum, and a server whose list
        // failed before is left out at once (its list cache retries it, and a success rebuilds this catalog).
        var lists = new Task<ServerList>[_sources.Length];
        for (var i = 0; i < _sources.Length; i++)
        {
            lists[i] = _sources[i].Cache.GetForCatalogAsync();
        }

        await Task.WhenAll(lists).ConfigureAwait(false);

        var sources = new CatalogSource[_sources.Length];
        for (var i = 0; i < _sources.Length; i++)
        {
            sources[i] = new CatalogSource(_sources[i].Assignment, _sources[i].Cache.Server, lists[i].Result) { Pins = _pins[i] };
        }

        var notes = new CatalogNotes();
        var catalog = CatalogBuilder.Build(_kind, _profile, sources, notes);
        foreach (var collision in notes.Collisions)
        {
            Log.NameCollision(_logger, _profile.Name, CatalogKinds.Noun(_kind), collision.ExposedName, collision.DroppedServer, collision.DroppedName, collision.KeptServer, collision.KeptName);
        }

        foreach (var (server, name, meant) in notes.UnmatchedCuration)
        {
            Log.UnmatchedCuration(_logger, _profile.Name, server, CatalogKinds.Noun(_kind), name, meant is null ? string.Empty : $" (did you mean '{meant}'? keys are the server's own names)");
        }

        foreach (var (server, mode, mismatch) in notes.PinMismatches)
        {
            _pinReports?.Report(_profile.Name, server, mode, mismatch);
        }

        Volatile.Write(ref _dropped, notes.Collisions.Count);
        Interlocked.Add(ref _droppedTotal, notes.Collisions.Count);

        foreach (var (server, error) in catalog.Failures)
        {
            Log.ServerFailed(_logger, _profile.Name, server, CatalogKinds.ResultProperty(_kind), error.Message);
        }

        lock (_lock)
        {
            // Kept even when a server is missing: its list cache retries it, and a success rebuilds this catalog.
            if (generation == _generation)
            {
                _building = null;
                _catalog = catalog;
            }
        }

        return catalog;
    }

    /// <summary>
    /// While the catalog is still being built (a member server is slow to start or list): resolves a name from the
    /// member servers whose lists are in. Names are claimed in config order, so the answer is the full catalog's
    /// whenever no server still pending could claim the name ahead of the one found: under prefixed naming a server
    /// claims only names with its own prefix; under bare naming, any server listed before it could. A call to a
    /// ready server therefore does not wait for a slow one. False when that is not certain (the caller then waits).
    /// </summary>
    public bool TryGetEarly(ReadOnlySpan<byte> nameToken, out CatalogEntry? entry)
    {
        entry = null;
        var settled = new bool[_sources.Length];
        var count = 0;
        for (var i = 0; i < _sources.Length; i++)
        {
            settled[i] = _sources[i].Cache.Settled is not null;
            count += settled[i] ? 1 : 0;
        }

        if (count == 0)
        {
            return false;
        }

        var provisional = Volatile.Read(ref _provisional);
        if (provisional is null || !provisional.Settled.AsSpan().SequenceEqual(settled))
        {
            var sources = new List<CatalogSource>(count);
            for (var i = 0; i < _sources.Length; i++)
            {
                if (settled[i])
                {
                    sources.Add(new CatalogSource(_sources[i].Assignment, _sources[i].Cache.Server, _sources[i].Cache.Settled!) { Pins = _pins[i] });
                }
            }

            provisional = new Provisional(settled, CatalogBuilder.Build(_kind, _profile, sources, new CatalogNotes()));
            Volatile.Write(ref _provisional, provisional);
        }

        if (!CatalogBuilder.TryGetEntry(provisional.Catalog, nameToken, out var found))
        {
            return false;
        }

        var reader = new System.Text.Json.Utf8JsonReader(nameToken);
        var name = reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.String ? reader.GetString()! : string.Empty;
        for (var i = 0; i < _sources.Length; i++)
        {
            if (ReferenceEquals(_sources[i].Cache.Server, found!.Server) && _sources[i].Assignment == found.Assignment)
            {
                break; // every server that could claim the name ahead of this one is settled
            }

            if (!settled[i] && (_profile.Naming == ToolNaming.Bare || name.StartsWith(_sources[i].Assignment.Server + _profile.Separator, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        entry = found;
        return true;
    }

    /// <summary>The member servers whose lists are still being fetched, for an error message ("the tools of 'a'").</summary>
    public string DescribePending()
    {
        var pending = _sources.Where(s => s.Cache.Settled is null).Select(s => $"'{s.Assignment.Server}'").Distinct().ToArray();
        return pending.Length == 0 ? $"its {CatalogKinds.ResultProperty(_kind)}" : $"the {CatalogKinds.ResultProperty(_kind)} of {string.Join(", ", pending)}";
    }

    private sealed record Provisional(bool[] Settled, Catalog Catalog);

    /// <summary>
    /// The servers whose failed lists might hold <paramref name="name"/> (the one its prefix names, or every failed
    /// one under bare naming), for a call that asks for an item the catalog does not have.
    /// </summary>
    public List<(string Server, UpstreamError Error)> FailedServersFor(Catalog catalog, string name)
    {
        var failed = new List<(string, UpstreamError)>();
        foreach (var (server, error) in catalog.Failures)
        {
            if (_profile.Naming == ToolNaming.Bare || name.StartsWith(server + _profile.Separator, StringComparison.Ordinal))
            {
                failed.Add((server, error));
            }
        }

        return failed;
    }

    /// <summary>
    /// Reads the lists of <paramref name="servers"/> again, waiting for them (within <paramref name="cancellationToken"/>):
    /// a call for an item of a server that failed before may find it back. True if any list came back; the catalog has
    /// then been invalidated (by the list cache's <c>Changed</c>), so the next <see cref="GetAsync"/> includes it.
    /// </summary>
    public async Task<bool> RetryAsync(List<(string Server, UpstreamError Error)> servers, CancellationToken cancellationToken)
    {
        var retried = false;
        foreach (var (assignment, cache) in _sources)
        {
            foreach (var (server, _) in servers)
            {
                if (assignment.Server == server)
                {
                    // Still failing: read it again. No longer failing (re-read since the catalog in hand was built): that
                    // catalog is stale, and the caller's next GetAsync has the list.
                    retried |= !cache.HasFailed || await cache.RefreshAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
            }
        }

        return retried;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.CatalogNameCollision, LogLevel.Warning,
            "Profile '{Profile}': {Noun} '{Name}' of server '{DroppedServer}' (upstream '{DroppedName}') is not exposed: the name is taken by '{KeptName}' of server '{KeptServer}'")]
        public static partial void NameCollision(ILogger logger, string profile, string noun, string name, string droppedServer, string droppedName, string keptServer, string keptName);

        [LoggerMessage(Observability.EventIds.CatalogUnmatchedCuration, LogLevel.Warning,
            "Profile '{Profile}': server '{Server}' lists no {Noun} '{Name}', so its rename/describe/fixed_arguments entry does nothing{Meant}")]
        public static partial void UnmatchedCuration(ILogger logger, string profile, string server, string noun, string name, string meant);

        [LoggerMessage(Observability.EventIds.CatalogServerFailed, LogLevel.Warning,
            "Profile '{Profile}': the {Kind} of server '{Server}' are left out: {Reason}")]
        public static partial void ServerFailed(ILogger logger, string profile, string server, string kind, string reason);
    }
}
