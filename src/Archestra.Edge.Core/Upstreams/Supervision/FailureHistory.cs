namespace Archestra.Edge.Upstreams.Supervision;

/// <summary>
/// The failure record of one replica, and the restart rule it implies: at once after a stable run, then
/// <see cref="RestartPolicy.InitialBackoff"/> doubling to <see cref="RestartPolicy.MaxBackoff"/> (±20% jitter, so
/// replicas do not restart in lockstep); after <see cref="RestartPolicy.CrashLoopAfter"/> failures in a row, the
/// crash-loop pause. Not thread-safe: its replica calls it under its lock.
/// </summary>
internal sealed class FailureHistory(TimeProvider timeProvider)
{
    private long _retryAfter;

    /// <summary>Failures in a row (starts that failed, exits, failed health checks); reset by a stable run.</summary>
    public int InARow { get; private set; }

    /// <summary>When the current session became ready; null while there is none.</summary>
    public DateTimeOffset? ReadySince { get; private set; }

    public void OnReady() => ReadySince = timeProvider.GetUtcNow();

    public void OnStopped() => ReadySince = null;

    /// <summary>
    /// Counts a failed start (<paramref name="crashed"/> false) or the end of a running session, and returns the
    /// state it leaves and the delay before the next attempt.
    /// </summary>
    public (UpstreamState State, TimeSpan Delay) Record(RestartPolicy policy, bool crashed, bool selfHosted)
    {
        if (crashed && ReadySince is { } since && timeProvider.GetUtcNow() - since >= RestartPolicy.StableAfter)
        {
            InARow = 0;
        }

        InARow++;
        ReadySince = null;
        UpstreamState state;
        TimeSpan delay;
        if (InARow >= policy.CrashLoopAfter && selfHosted)
        {
            state = UpstreamState.CrashLoop;
            delay = policy.CrashLoopPause;
        }
        else
        {
            // A crash after a run is retried at once the first time; a failed start waits from the first failure.
            state = UpstreamState.Failed;
            var steps = crashed ? InARow - 2 : InARow - 1;
            delay = steps < 0 ? TimeSpan.Zero : Backoff(policy, steps, Random.Shared.NextDouble());
        }

        _retryAfter = timeProvider.GetTimestamp() + (long)(delay.TotalSeconds * timeProvider.TimestampFrequency);
        return (state, delay);
    }

    /// <summary>The time left before the next attempt is due (zero when it is).</summary>
    public TimeSpan Remaining()
    {
        var now = timeProvider.GetTimestamp();
        return now >= _retryAfter ? TimeSpan.Zero : timeProvider.GetElapsedTime(now, _retryAfter);
    }

    /// <summary>When the next attempt is due, for status; null before any failure or once it was made due.</summary>
    public DateTimeOffset? NextAttemptAt => _retryAfter > 0
        ? timeProvider.GetUtcNow() + timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), _retryAfter)
        : null;

    /// <summary>The next attempt is due now (a scheduled restart fired).</summary>
    public void Due() => _retryAfter = 0;

    /// <summary>The delay of the given step (0 = the first retry): the initial back-off doubled per step, capped, jittered.</summary>
    internal static TimeSpan Backoff(RestartPolicy policy, int steps, double jitter)
    {
        var seconds = policy.InitialBackoff.TotalSeconds * Math.Pow(2, Math.Min(steps, 30));
        seconds = Math.Min(seconds, policy.MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.8 + (jitter * 0.4)));
    }
}
