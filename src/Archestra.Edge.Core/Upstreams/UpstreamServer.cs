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

    // Servers whose headers or env hold ${credential:…}: one replica per credential selection (callers with the
    // same credentials share it), created on first use.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, UpstreamReplica> _byCredentials = new(StringComparer.Ordinal);

    /// <summary>The session to use for <paramref name="caller"/>: the shared one, or the one with the caller's credentials.</summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> GetSessionAsync(Identity.Principal caller, CancellationToken cancellationToken)
    {
        if (!Model.UsesCredentials)
        {
            return GetSessionAsync(cancellationToken);
        }

        var (selection, error) = Credentials.Select(Model, caller, _identity);
        return error.IsError
            ? ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((null, error))
            : ReplicaFor(selection).GetSessionAsync(cancellationToken);
    }

    /// <summary>The model with <paramref name="caller"/>'s credentials filled in (for a session of its own).</summary>
    public (ServerModel? Model, UpstreamError Error) ModelFor(Identity.Principal caller)
    {
        if (!Model.UsesCredentials)
        {
            return (Model, UpstreamError.None);
        }

        var (selection, error) = Credentials.Select(Model, caller, _identity);
        return error.IsError ? (null, error) : (Credentials.Fill(Model, selection), UpstreamError.None);
    }

    private UpstreamReplica ReplicaFor(Credentials.Selection selection)
        => _byCredentials.GetOrAdd(selection.Key, static (key, state) =>
            new UpstreamReplica(state.Server, 0, state.Server._services, state.Server._logger, model: Credentials.Fill(state.Server.Model, state.Selection), label: key.TrimEnd(';')),
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
        if (Model.UsesCredentials)
        {
            // No caller (listing the catalog): the catalog credential.
            var (selection, error) = Credentials.ForCatalog(Model, _identity);
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
        var replicas = new List<ReplicaStatus>(_replicas.Length + _byCredentials.Count);
        foreach (var replica in Model.UsesCredentials ? [] : _replicas)
        {
            replicas.Add(replica.Status());
        }

        foreach (var (_, replica) in _byCredentials)
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

        foreach (var (_, replica) in _byCredentials)
        {
            stops.Add(replica.DisposeAsync().AsTask());
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
    }
}
