using System.Collections.Concurrent;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Limits;

/// <summary>
/// One rate limit kept per key (a caller, a profile, a tool), by the generic cell rate algorithm: each key holds a
/// single "theoretical arrival time" updated with one compare-and-swap, so checking takes no lock and a burst of up
/// to <see cref="RateLimit.Count"/> requests is allowed after a quiet period. In a fleet of n live instances it keeps
/// the count divided by n (rounded up): the interval and burst are recomputed when n changes, read once per request.
/// </summary>
internal sealed class RateLimiter
{
    private const int MaxKeys = 100_000;

    private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Func<int>? _share;
    private volatile Rate _rate;

    /// <param name="share">How many instances share the limit now (null: this one alone).</param>
    public RateLimiter(RateLimit limit, TimeProvider time, Func<int>? share = null)
    {
        Limit = limit;
        _time = time;
        _share = share;
        _rate = Rate.Of(limit, 1, time);
    }

    public RateLimit Limit { get; }

    /// <summary>What this instance allows: the limit's count divided by the instances sharing it, rounded up.</summary>
    public int LocalCount => CurrentRate().Count;

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

        var rate = CurrentRate();
        var now = _time.GetTimestamp();
        while (true)
        {
            var tat = Volatile.Read(ref cell.TheoreticalArrival);
            var start = Math.Max(tat, now);
            if (start - now > rate.Tolerance)
            {
                retryAfter = TimeSpan.FromSeconds((double)(start - now - rate.Tolerance) / _time.TimestampFrequency);
                return false;
            }

            if (Interlocked.CompareExchange(ref cell.TheoreticalArrival, start + rate.Interval, tat) == tat)
            {
                retryAfter = TimeSpan.Zero;
                return true;
            }
        }
    }

    private Rate CurrentRate()
    {
        var rate = _rate;
        if (_share is not null && _share() is var members && members != rate.Members)
        {
            _rate = rate = Rate.Of(Limit, members, _time);
        }

        return rate;
    }

    /// <summary>The interval between requests and the burst tolerance, for a share of the limit.</summary>
    private sealed record Rate(int Members, int Count, long Interval, long Tolerance)
    {
        public static Rate Of(RateLimit limit, int members, TimeProvider time)
        {
            members = Math.Max(1, members);
            var count = Math.Max(1, (limit.Count + members - 1) / members);
            var periodTicks = (long)(limit.Period.TotalSeconds * time.TimestampFrequency);
            var interval = Math.Max(1, periodTicks / count);
            return new Rate(members, count, interval, interval * (count - 1));
        }
    }

    private sealed class Cell
    {
        public long TheoreticalArrival;
    }
}
