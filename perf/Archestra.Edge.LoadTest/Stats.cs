using System.Collections.Concurrent;
using HdrHistogram;

namespace Archestra.Edge.LoadTest;

/// <summary>Latencies (microseconds, HdrHistogram) and failures by kind, recorded by many workers.</summary>
internal sealed class Stats
{
    // Up to 60 s, 3 significant digits.
    private const long HighestMicroseconds = 60_000_000;

    private readonly ThreadLocal<LongHistogram> _local = new(() => new LongHistogram(HighestMicroseconds, 3), trackAllValues: true);
    private long _ok;

    public ConcurrentDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public long Ok => Interlocked.Read(ref _ok);

    public long Failed => Errors.Values.Sum();

    public void Record(long microseconds)
    {
        _local.Value!.RecordValue(Math.Clamp(microseconds, 1, HighestMicroseconds));
        Interlocked.Increment(ref _ok);
    }

    public void Fail(string kind) => Errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    /// <summary>All workers' histograms merged.</summary>
    public LongHistogram Merge()
    {
        var merged = new LongHistogram(HighestMicroseconds, 3);
        foreach (var histogram in _local.Values)
        {
            merged.Add(histogram);
        }

        return merged;
    }
}
