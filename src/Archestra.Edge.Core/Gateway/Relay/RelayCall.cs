using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.ObjectPool;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>Why a relayed call stopped before its response.</summary>
internal enum RelayStop
{
    None = 0,
    Timeout,
    CancelledByClient,
    SessionEnded,
}

/// <summary>
/// One client request on its way to an upstream, from the moment it arrives (so a cancel that races the
/// catalog lookup still finds it) until it is answered. It knows which upstream request it became (for
/// cancellation and server-to-client requests) and has a token that fires on timeout, client cancel or session
/// end. Pooled: the token source and its timer are reused, so a call allocates nothing here.
/// </summary>
internal sealed class RelayCall : IDisposable
{
    private readonly TimeProvider _timeProvider;
    private readonly ObjectPool<RelayCall> _pool;
    private readonly Lock _lock = new();
    private CancellationTokenSource _cts;
    private DownstreamSession? _session;
    private List<(byte[] UpstreamId, long GatewayId)>? _serverRequests;
    private int _stop;
    private int _generation;

    public RelayCall(TimeProvider timeProvider, ObjectPool<RelayCall> pool)
    {
        _timeProvider = timeProvider;
        _pool = pool;
        _cts = new CancellationTokenSource(System.Threading.Timeout.InfiniteTimeSpan, timeProvider);
    }

    public RequestKey Key { get; private set; }

    /// <summary>The call's exchange with its upstream, reused with the call.</summary>
    public RelayExchange Exchange { get; } = new();

    /// <summary>The generation a 2026-07-28 request's stream-close registration cancels.</summary>
    public int StreamGeneration { get; set; }

    public CancellationToken Token { get; private set; }

    /// <summary>Changes every time the pooled object is reused; a cancel holding an old value does nothing.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The time the call is allowed; the target server's once it is known.</summary>
    public TimeSpan Timeout { get; private set; }

    /// <summary>The server the call went to, once resolved.</summary>
    public UpstreamServer? Server { get; private set; }

    public UpstreamSession? Upstream { get; set; }

    public long UpstreamId { get; set; }

    /// <summary>Why the token fired; a timeout when nothing else claimed it first.</summary>
    public RelayStop Stop => _stop == 0 && _cts.IsCancellationRequested ? RelayStop.Timeout : (RelayStop)_stop;

    /// <summary>Takes a call from the pool and registers it under the client's request id.</summary>
    public static RelayCall Begin(ObjectPool<RelayCall> pool, DownstreamSession session, RequestKey key, TimeSpan timeout)
    {
        var call = pool.Get();
        call._session = session;
        call.Key = key;
        call.Timeout = timeout;
        call.Token = call._cts.Token;
        call._cts.CancelAfter(timeout);
        session.AddInFlight(call);
        return call;
    }

    /// <summary>
    /// While the target is being resolved: what the profile's catalog still waits for (a slow server's list), so a
    /// timeout names that server rather than the request or the server it was meant for.
    /// </summary>
    public string? WaitingFor { get; set; }

    /// <summary>The target is known: the call now has that server's time limit, counted from now.</summary>
    public void Target(UpstreamServer server)
    {
        Server = server;
        Timeout = server.Model.CallTimeout;
        _cts.CancelAfter(Timeout);
    }

    /// <summary>Cancels the call if it is still the one with <paramref name="generation"/> (not reused since).</summary>
    public void CancelByClient(int generation) => Cancel(RelayStop.CancelledByClient, generation);

    public void CancelBySession() => Cancel(RelayStop.SessionEnded, Generation);

    /// <summary>Unregisters the call and returns it to the pool.</summary>
    public void Dispose()
    {
        _session?.RemoveInFlight(this);
        ForgetServerRequests();
        _pool.Return(this);
    }

    /// <summary>Readies a returned call for reuse; false if it cannot be (the pool then drops it).</summary>
    internal bool Reset()
    {
        lock (_lock)
        {
            _generation++;
        }

        if (!_cts.TryReset())
        {
            _cts.Dispose();
            _cts = new CancellationTokenSource(System.Threading.Timeout.InfiniteTimeSpan, _timeProvider);
        }

        _session = null;
        Exchange.Clear();
        Key = default;
        Token = default;
        Server = null;
        Upstream = null;
        UpstreamId = 0;
        WaitingFor = null;
        _stop = 0;
        return true;
    }

    /// <summary>Notes a server-to-client request relayed during this call.</summary>
    public void RememberServerRequest(byte[] upstreamId, long gatewayId)
    {
        lock (_lock)
        {
            (_serverRequests ??= []).Add((upstreamId, gatewayId));
        }
    }

    /// <summary>Finds the gateway id given to the upstream request with this id.</summary>
    public bool TryFindServerRequest(ReadOnlySpan<byte> upstreamId, out long gatewayId, bool remove)
    {
        lock (_lock)
        {
            for (var i = 0; i < (_serverRequests?.Count ?? 0); i++)
            {
                if (_serverRequests![i].UpstreamId.AsSpan().SequenceEqual(upstreamId))
                {
                    gatewayId = _serverRequests[i].GatewayId;
                    if (remove)
                    {
                        _serverRequests.RemoveAt(i);
                    }

                    return true;
                }
            }
        }

        gatewayId = 0;
        return false;
    }

    /// <summary>When the call ends, its unanswered server-to-client requests are forgotten by the session.</summary>
    private void ForgetServerRequests()
    {
        if (_serverRequests is null)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var (_, gatewayId) in _serverRequests)
            {
                _session?.ServerRequests.TryRemove(gatewayId, out _);
            }

            _serverRequests = null;
        }
    }

    private void Cancel(RelayStop reason, int generation)
    {
        // Under the lock: a pooled call must not be reset (and reused) halfway through a cancel.
        lock (_lock)
        {
            if (generation != _generation)
            {
                return;
            }

            if (_cts.IsCancellationRequested)
            {
                // The timer already fired: it was a timeout, whatever happens next.
                Interlocked.CompareExchange(ref _stop, (int)RelayStop.Timeout, 0);
                return;
            }

            if (Interlocked.CompareExchange(ref _stop, (int)reason, 0) == 0)
            {
                _cts.Cancel();
            }
        }
    }

    /// <summary>The pool policy: new calls bound to the gateway's clock; returned ones reset.</summary>
    internal sealed class Policy(TimeProvider timeProvider) : IPooledObjectPolicy<RelayCall>
    {
        public ObjectPool<RelayCall>? Pool { get; set; }

        public RelayCall Create() => new(timeProvider, Pool!);

        public bool Return(RelayCall obj) => obj.Reset();
    }
}
