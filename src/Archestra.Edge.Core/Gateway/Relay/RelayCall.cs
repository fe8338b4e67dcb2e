using Archestra.Edge.Upstreams;

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
/// The state of one call relayed to an upstream: which upstream request it became (for cancellation and
/// server-to-client requests) and a token that fires on timeout, client cancel, disconnect or session end.
/// </summary>
internal sealed class RelayCall : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly Lock _lock = new();
    private List<(byte[] UpstreamId, long GatewayId)>? _serverRequests;
    private int _stop;

    public RelayCall(TimeSpan timeout, TimeProvider timeProvider)
    {
        _cts = new CancellationTokenSource(timeout, timeProvider);
    }

    public CancellationToken Token => _cts.Token;

    public UpstreamSession? Upstream { get; set; }

    public long UpstreamId { get; set; }

    /// <summary>Why the token fired; a timeout when nothing else claimed it first.</summary>
    public RelayStop Stop => _stop == 0 && _cts.IsCancellationRequested ? RelayStop.Timeout : (RelayStop)_stop;

    public void CancelByClient() => Cancel(RelayStop.CancelledByClient);

    public void CancelBySession() => Cancel(RelayStop.SessionEnded);

    public void DownstreamGone() => Cancel(RelayStop.DownstreamGone);

    public void Dispose() => _cts.Dispose();


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
    public void ForgetServerRequests(Sessions.DownstreamSession session)
    {
        lock (_lock)
        {
            foreach (var (_, gatewayId) in _serverRequests ?? [])
            {
                session.ServerRequests.TryRemove(gatewayId, out _);
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
