using Archestra.Edge.Configuration;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One configured upstream server at run time: its replicas (one unless <c>replicas</c> says more), each with
/// its own upstream session. Calls are spread round-robin over the replicas that are ready; a replica is
/// started only when no ready one is found.
/// </summary>
internal sealed class UpstreamServer : IAsyncDisposable
{
    private readonly UpstreamReplica[] _replicas;
    private int _next;

    public UpstreamServer(ServerModel model, UpstreamServices services)
    {
        Model = model;
        var logger = services.LoggerFactory.CreateLogger($"Archestra.Edge.Upstreams.{model.Name}");
        _replicas = new UpstreamReplica[model.Replicas];
        for (var i = 0; i < _replicas.Length; i++)
        {
            _replicas[i] = new UpstreamReplica(this, i, services, logger);
        }
    }

    public ServerModel Model { get; }

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
        for (var i = 0; i < replicas.Length; i++)
        {
            var replica = replicas[(start + i) % replicas.Length];
            if (replica.IsReady)
            {
                return replica.GetSessionAsync(cancellationToken);
            }
        }

        return replicas[start].GetSessionAsync(cancellationToken);
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
