using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>Why a relayed call stopped before its response.</summary>
internal enum RelayStop
{
    None = 0,
    Timeout,
    CancelledByClient,
    DownstreamGone,
    SessionEnded,
}

/// <summary>
/// One client request on its way to an upstream, from the moment it arrives (so a cancel that races the
/// catalog lookup still finds it) until it is answered. It knows which upstream request it became (for
/// cancellation and server-to-client requests) and has a token that fires on timeout, client cancel,
/// disconnect or session end. Disposing it unregisters it everywhere.
/// </summary>
internal sealed class RelayCall : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly DownstreamSession _session;
    private readonly RequestKey _key;
    private readonly Lock _lock = new();
    private CancellationTokenRegistration _aborted;
    private List<(byte[] UpstreamId, long GatewayId)>? _serverRequests;
    private int _stop;

    private RelayCall(DownstreamSession session, RequestKey key, TimeSpan timeout, TimeProvider timeProvider)
    {
        _session = session;
        _key = key;
        Timeout = timeout;
        _cts = new CancellationTokenSource(timeout, timeProvider);
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The time the call is allowed; the target server's once it is known.</summary>
    public TimeSpan Timeout { get; private set; }

    /// <summary>The server the call went to, once resolved.</summary>
    public UpstreamServer? Server { get; private set; }

    public UpstreamSession? Upstream { get; set; }

    public long UpstreamId { get; set; }

    /// <summary>Why the token fired; a timeout when nothing else claimed it first.</summary>
    public RelayStop Stop => _stop == 0 && _cts.IsCancellationRequested ? RelayStop.Timeout : (RelayStop)_stop;

    /// <summary>Registers a call under the client's request id, with a first timeout for resolving its target.</summary>
    public static RelayCall Begin(HttpContext context, DownstreamSession session, RequestKey key, TimeSpan timeout, TimeProvider timeProvider)
    {
        var call = new RelayCall(session, key, timeout, timeProvider);
        session.InFlight[key] = call;
        call._aborted = context.RequestAborted.UnsafeRegister(static state => ((RelayCall)state!).DownstreamGone(), call);
        return call;
    }

    /// <summary>The target is known: the call now has that server's time limit, counted from now.</summary>
    public void Target(UpstreamServer server)
    {
        Server = server;
        Timeout = server.Model.CallTimeout;
        try
        {
            _cts.CancelAfter(Timeout);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void CancelByClient() => Cancel(RelayStop.CancelledByClient);

    public void CancelBySession() => Cancel(RelayStop.SessionEnded);

    public void DownstreamGone() => Cancel(RelayStop.DownstreamGone);

    public void Dispose()
    {
        _aborted.Dispose();
        _session.InFlight.TryRemove(new KeyValuePair<RequestKey, RelayCall>(_key, this));
        ForgetServerRequests();
        _cts.Dispose();
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
        lock (_lock)
        {
            foreach (var (_, gatewayId) in _serverRequests ?? [])
            {
                _session.ServerRequests.TryRemove(gatewayId, out _);
            }

            _serverRequests = null;
        }
    }

    private void Cancel(RelayStop reason)
    {
        if (_cts.IsCancellationRequested)
        {
            // The timer already fired: it was a timeout, whatever happens next.
            Interlocked.CompareExchange(ref _stop, (int)RelayStop.Timeout, 0);
            return;
        }

        if (Interlocked.CompareExchange(ref _stop, (int)reason, 0) == 0)
        {
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
