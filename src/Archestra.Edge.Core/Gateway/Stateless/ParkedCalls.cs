using Archestra.Edge.Gateway.Relay;

namespace Archestra.Edge.Gateway.Stateless;

/// <summary>
/// Calls of 2026-07-28 clients to 2025 servers that wait for the client's answers: the server asked for input during
/// the call (elicitation, sampling, roots) and holds its call open, the client got an <c>InputRequiredResult</c> and
/// will retry with the answers. Bounded at <see cref="MaxParked"/>: past it the server's request is refused, and each
/// entry leaves when the client retries or when the call's own time limit (the server's <c>call_timeout</c>) runs out.
/// </summary>
internal sealed class ParkedCalls
{
    internal const int MaxParked = 1_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, RelayExchange> _calls = [];
    private long _nextId;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _calls.Count;
            }
        }
    }

    /// <summary>Parks a call; 0 when the table is full.</summary>
    public long Add(RelayExchange exchange)
    {
        lock (_lock)
        {
            if (_calls.Count >= MaxParked)
            {
                return 0;
            }

            var id = ++_nextId;
            _calls[id] = exchange;
            return id;
        }
    }

    /// <summary>Takes a parked call out (once: a second taker finds nothing).</summary>
    public bool TryTake(long id, out RelayExchange exchange)
    {
        lock (_lock)
        {
            return _calls.Remove(id, out exchange!);
        }
    }
}
