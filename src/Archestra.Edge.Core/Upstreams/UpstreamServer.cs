using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One configured upstream server at run time: its replicas (one unless <c>replicas</c> says more), each with
/// its own upstream session. Calls are spread round-robin over the replicas; when it is the turn of one that is not
/// up, it is started in the background and the call goes to one that is.
/// </summary>
internal sealed class UpstreamServer : IAsyncDisposable
{
    private readonly UpstreamReplica[] _replicas;
    private int _next;

    /// <param name="identity">
    /// The teams, users and credentials the server's <c>${credential:…}</c> references are resolved against. A reload
    /// carries a server over only when they are unchanged, so it keeps the ones it was built with.
    /// </param>
    public UpstreamServer(ServerModel model, UpstreamServices services, IdentityModel? identity = null)
    {
        Model = model;
        _identity = identity ?? IdentityModel.Empty;
        var logger = services.LoggerFactory.CreateLogger($"Archestra.Edge.Upstreams.{model.Name}");
        _services = services;
        _logger = logger;
        _replicas = new UpstreamReplica[model.Replicas];
        for (var i = 0; i < _replicas.Length; i++)
        {
            _replicas[i] = new UpstreamReplica(this, i, services, logger);
        }
    }

    private readonly UpstreamServices _services;
    private readonly IdentityModel _identity;
    private readonly ILogger _logger;

    public ServerModel Model { get; }

    /// <summary>
    /// A replica of its own for one downstream session (<c>sharing: per_session</c>): its own process or HTTP
    /// session, started on first use, stopped when the owner disposes it.
    /// </summary>
    public UpstreamReplica CreatePrivateReplica(ICallerContext owner, bool roots, ServerModel? model = null)
        => new(this, 0, _services, _logger, owner, UpstreamSession.InitializeParameters(roots), model);

    // Servers whose sessions depend on the caller (headers or env with ${credential:…}, or OAuth connections of users
    // and teams): one replica per selection (callers with the same credentials and connection share it), made on first use.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, UpstreamReplica> _byCaller = new(StringComparer.Ordinal);

    /// <summary>The session to use for <paramref name="caller"/>: the shared one, or the one with the caller's credentials and connection.</summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> GetSessionAsync(Identity.Principal caller, CancellationToken cancellationToken)
    {
        if (!Model.PerCaller)
        {
            return GetSessionAsync(cancellationToken);
        }

        var (selection, error) = Select(caller);
        return error.IsError
            ? ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((null, error))
            : ReplicaFor(selection).GetSessionAsync(cancellationToken);
    }

    /// <summary>The model with <paramref name="caller"/>'s credentials and connection filled in (for a session of its own).</summary>
    public (ServerModel? Model, UpstreamError Error) ModelFor(Identity.Principal caller)
    {
        if (!Model.PerCaller)
        {
            return (Model, UpstreamError.None);
        }

        var (selection, error) = Select(caller);
        return error.IsError ? (null, error) : (selection.Model, UpstreamError.None);
    }

    /// <summary>What a caller's sessions are made with: its credentials, its connection's owner, and the key naming both.</summary>
    private readonly record struct CallerSelection(string Key, ServerModel Model);

    private (CallerSelection Selection, UpstreamError Error) Select(Identity.Principal? caller)
    {
        var model = Model;
        var key = string.Empty;
        if (model.UsesCredentials)
        {
            var (credentials, error) = caller is null ? Credentials.ForCatalog(model, _identity) : Credentials.Select(model, caller, _identity);
            if (error.IsError)
            {
                return (default, error);
            }

            model = Credentials.Fill(model, credentials);
            key = credentials.Key;
        }

        if (model.Remote?.OAuth is { PerCaller: true } oauth && _services.Connections is { } connections)
        {
            var (owner, error) = caller is null ? connections.OwnerForCatalog(Name, oauth) : connections.OwnerFor(Name, oauth, caller);
            if (owner is null)
            {
                return (default, error);
            }

            model = model with { Remote = model.Remote with { OAuth = oauth with { Owner = owner } } };
            key += $"oauth={owner};";
        }

        return (new CallerSelection(key, model), UpstreamError.None);
    }

    private UpstreamReplica ReplicaFor(CallerSelection selection)
        => _byCaller.GetOrAdd(selection.Key, static (key, state) =>
            new UpstreamReplica(state.Server, 0, state.Server._services, state.Server._logger, model: state.Selection.Model, label: key.TrimEnd(';')),
            (Server: this, Selection: selection));

    public string Name => Model.Name;

    public IReadOnlyList<UpstreamReplica> Replicas => _replicas;

    /// <summary>A live session of any replica, if one is running (no start).</summary>
    public UpstreamSession? CurrentSession
    {
        get
        {
            foreach (var replica in _replicas)
            {
                if (replica.CurrentSession is { } session)
                {
                    return session;
                }
            }

            return null;
        }
    }

    /// <summary>A live session of the next ready replica, else starts the next replica. Fast path: no lock, no allocation.</summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> GetSessionAsync(CancellationToken cancellationToken)
    {
        if (Model.PerCaller)
        {
            // No caller (listing the catalog): the catalog's credentials and connection.
            var (selection, error) = Select(null);
            return error.IsError
                ? ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((null, error))
                : ReplicaFor(selection).GetSessionAsync(cancellationToken);
        }

        var replicas = _replicas;
        if (replicas.Length == 1)
        {
            return replicas[0].GetSessionAsync(cancellationToken);
        }

        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)replicas.Length);
        var chosen = replicas[start];
        if (chosen.IsReady)
        {
            return chosen.GetSessionAsync(cancellationToken);
        }

        for (var i = 1; i < replicas.Length; i++)
        {
            var replica = replicas[(start + i) % replicas.Length];
            if (replica.IsReady)
            {
                // The replica whose turn it was is not up: start it in the background, and serve this call from
                // one that is, so no caller waits for a start while a sibling could answer.
                chosen.WarmUp();
                return replica.GetSessionAsync(cancellationToken);
            }
        }

        return chosen.GetSessionAsync(cancellationToken);
    }

    /// <summary>Starts every replica that is down (start: eager).</summary>
    public void WarmUpAll()
    {
        foreach (var replica in _replicas)
        {
            replica.WarmUp();
        }
    }

    public ServerStatus Status()
    {
        var replicas = new List<ReplicaStatus>(_replicas.Length + _byCaller.Count);
        foreach (var replica in Model.PerCaller ? [] : _replicas)
        {
            replicas.Add(replica.Status());
        }

        foreach (var (_, replica) in _byCaller)
        {
            replicas.Add(replica.Status() with { Index = replicas.Count });
        }

        return ServerStatus.Of(Name, Model.Kind.ToString().ToLowerInvariant(), replicas);
    }

    public async ValueTask DisposeAsync()
    {
        var stops = new List<Task>();
        foreach (var replica in _replicas)
        {
            stops.Add(replica.DisposeAsync().AsTask());
        }

        foreach (var (_, replica) in _byCaller)
        {
            stops.Add(replica.DisposeAsync().AsTask());
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
    }
}
