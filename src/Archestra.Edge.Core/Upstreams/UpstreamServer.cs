using Archestra.Edge.Configuration;
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

    public UpstreamServer(ServerModel model, UpstreamServices services)
    {
        Model = model;
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
    private readonly ILogger _logger;

    public ServerModel Model { get; }

    /// <summary>
    /// A replica of its own for one downstream session (<c>sharing: per_session</c>): its own process or HTTP
    /// session, started on first use, stopped when the owner disposes it.
    /// </summary>
    public UpstreamReplica CreatePrivateReplica(ICallerContext owner, bool roots)
        => new(this, 0, _services, _logger, owner, UpstreamSession.InitializeParameters(roots));

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
        var replicas = new ReplicaStatus[_replicas.Length];
        for (var i = 0; i < replicas.Length; i++)
        {
            replicas[i] = _replicas[i].Status();
        }

        return ServerStatus.Of(Name, Model.Kind.ToString().ToLowerInvariant(), replicas);
    }

    public async ValueTask DisposeAsync()
    {
        var stops = new Task[_replicas.Length];
        for (var i = 0; i < _replicas.Length; i++)
        {
            stops[i] = _replicas[i].DisposeAsync().AsTask();
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
    }
}
