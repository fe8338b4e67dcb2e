using System.Collections.Concurrent;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Limits;

/// <summary>
/// One rate limit kept per key (a caller, a profile, a tool), by the generic cell rate algorithm: each key holds a
/// single "theoretical arrival time" updated with one compare-and-swap, so checking takes no lock and a burst of up
/// to <see cref="RateLimit.Count"/> requests is allowed after a quiet period.
/// </summary>
internal sealed class RateLimiter
{
    private const int MaxKeys = 100_000;

    private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly long _tolerance;

    public RateLimiter(RateLimit limit, TimeProvider time)
    {
        Limit = limit;
        _time = time;
        var periodTicks = (long)(limit.Period.TotalSeconds * time.TimestampFrequency);
        _interval = Math.Max(1, periodTicks / limit.Count);
        _tolerance = _interval * (limit.Count - 1);
    }

    public RateLimit Limit { get; }

    /// <summary>Takes one request for <paramref name="key"/>; if refused, says how long until one would be taken.</summary>
    public bool TryAcquire(string key, out TimeSpan retryAfter)
    {
        if (!_cells.TryGetValue(key, out var cell))
        {
            if (_cells.Count >= MaxKeys)
            {
                _cells.Clear(); // a flood of distinct keys must not grow memory without bound; limits restart
            }

            cell = _cells.GetOrAdd(key, static _ => new Cell());
        }

        var now = _time.GetTimestamp();
        while (true)
        {
            var tat = Volatile.Read(ref cell.TheoreticalArrival);
            var start = Math.Max(tat, now);
            if (start - now > _tolerance)
            {
                retryAfter = TimeSpan.FromSeconds((double)(start - now - _tolerance) / _time.TimestampFrequency);
                return false;
            }

            if (Interlocked.CompareExchange(ref cell.TheoreticalArrival, start + _interval, tat) == tat)
            {
                retryAfter = TimeSpan.Zero;
                return true;
            }
        }
    }

    private sealed class Cell
    {
        public long TheoreticalArrival;
    }
}
