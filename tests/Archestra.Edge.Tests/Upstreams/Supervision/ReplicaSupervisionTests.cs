using Archestra.Edge.Configuration;
using Archestra.Edge.Model;
using Archestra.Edge.Tests.Infrastructure;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Archestra.Edge.Tests.Upstreams.Supervision;

/// <summary>
/// Restarts, back-off, crash loops, health pings and idle stops of one replica, on a fake clock: every delay is
/// checked to the millisecond it is due, not by waiting for it.
/// </summary>
public sealed class ReplicaSupervisionTests : IAsyncDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    private readonly ScriptedTransports _transports;
    private UpstreamServer? _server;

    public ReplicaSupervisionTests()
    {
        _transports = new ScriptedTransports(_time);
    }

    [Fact]
    public async Task FailingStarts_AreRetriedWithDoublingJitteredDelays_ThenLeftAloneInACrashLoop()
    {
        _transports.Next = (_, _) => ScriptedTransports.Fail("exited with code 3");
        var replica = Replica("""
            start: eager
            restart: { initial_backoff: 1s, max_backoff: 8s, crash_loop_after: 6, crash_loop_pause: 1h }
            """);

        replica.WarmUp();
        for (var attempt = 2; attempt <= 6; attempt++)
        {
            await AdvanceUntilAsync(() => _transports.Attempts.Count == attempt, TimeSpan.FromSeconds(30));
        }

        // 1 s, 2 s, 4 s, then the 8 s cap, each ±20%; the fake clock fires each restart at its due time exactly.
        var attempts = _transports.Attempts;
        var expected = new[] { 1.0, 2, 4, 8, 8 };
        for (var i = 0; i < expected.Length; i++)
        {
            var gap = (attempts[i + 1] - attempts[i]).TotalSeconds;
            Assert.InRange(gap, expected[i] * 0.8, expected[i] * 1.2);
        }

        var status = replica.Status();
        Assert.Equal(UpstreamState.CrashLoop, status.State);
        Assert.Equal(6, status.ConsecutiveFailures);
        Assert.Equal(6, status.Starts);
        Assert.Equal(5, status.Restarts);
        Assert.Equal(attempts[5].AddHours(1), status.NextAttemptAt);

        // A caller hears about the crash loop; nothing is started for it.
        var (session, error) = await replica.GetSessionAsync(CancellationToken.None);
        Assert.Null(session);
        Assert.Contains("exited with code 3 (crash loop: 6 failures in a row; next attempt in ", error.Message, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(6, _transports.Attempts.Count);
        await AdvanceUntilAsync(() => _transports.Attempts.Count == 7, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
        Assert.Equal(attempts[5].AddHours(1), _transports.Attempts[6]);
    }

    [Fact]
    public async Task LazyServer_ThatFailedToStart_IsRetriedByTheNextCallAfterItsBackoff_NotByATimer()
    {
        _transports.Next = (_, _) => ScriptedTransports.Fail("connection refused");
        var replica = Replica("restart: { initial_backoff: 2s }");

        var (_, first) = await replica.GetSessionAsync(CancellationToken.None);
        Assert.Contains("connection refused", first.Message, StringComparison.Ordinal);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(_transports.Attempts);

        _transports.Next = (listener, _) => Task.FromResult<(UpstreamSession?, UpstreamError)>((new ScriptedSession("s", listener), UpstreamError.None));
        var (session, error) = await replica.GetSessionAsync(CancellationToken.None);
        Assert.True(session is not null, error.Message);
        Assert.Equal(2, _transports.Attempts.Count);
        Assert.Equal(1, replica.Status().Restarts);
    }

    [Fact]
    public async Task CrashAfterAStableRun_IsRestartedAtOnce_ACrashRightAfterARestart_BacksOff()
    {
        var replica = Replica("restart: { initial_backoff: 1s, max_backoff: 30s }");
        var (first, _) = await replica.GetSessionAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(2)); // a stable run
        ((ScriptedSession)first!).Exit("the server process exited with code 3");
        await AdvanceUntilAsync(() => replica.IsReady, TimeSpan.FromSeconds(1));
        var status = replica.Status();
        Assert.Equal(1, status.Restarts);
        Assert.Equal(1, status.ConsecutiveFailures);
        Assert.Contains("exited with code 3", status.LastExit, StringComparison.Ordinal);
        Assert.NotNull(status.ReadySince);

        // Crashing again at once is a second failure in a row: back-off of about a second.
        var crashedAt = _time.GetUtcNow();
        _transports.Sessions[^1].Exit("the server process exited with code 3");
        Assert.False(replica.IsReady);
        Assert.Equal(UpstreamState.Failed, replica.Status().State);
        await AdvanceUntilAsync(() => replica.IsReady, TimeSpan.FromSeconds(2));
        Assert.InRange((_transports.Attempts[^1] - crashedAt).TotalSeconds, 0.8, 1.2);
        Assert.Equal(2, replica.Status().ConsecutiveFailures);

        // A run past a minute forgives the past: the next crash is restarted at once again.
        _time.Advance(RestartPolicy.StableAfter);
        _transports.Sessions[^1].Exit("the server process exited with code 3");
        await AdvanceUntilAsync(() => replica.IsReady, TimeSpan.FromSeconds(1));
        Assert.Equal(1, replica.Status().ConsecutiveFailures);
        Assert.Equal(3, replica.Status().Restarts);
    }

    [Fact]
    public async Task UnansweredPing_FailsTheHealthCheck_DisposesTheSession_AndRestartsIt()
    {
        var replica = Replica("""
            start: eager
            health: { ping_interval: 10s, ping_timeout: 3s }
            """);
        replica.WarmUp();
        var session = _transports.Sessions.Single();

        // Answered pings keep it.
        _time.Advance(TimeSpan.FromSeconds(35));
        Assert.True(replica.IsReady);
        Assert.Single(_transports.Attempts);

        // The ping's timeout ends it through a continuation on the thread pool: fake time moves in half seconds, each
        // followed by a real moment for that continuation, so a busy machine cannot make the clock outrun it.
        session.Frozen = true;
        var frozenAt = _time.GetUtcNow();
        var halfSecond = TimeSpan.FromMilliseconds(500);
        await AdvanceUntilAsync(() => session.Disposed, TimeSpan.FromSeconds(20), halfSecond, settle: TimeSpan.FromMilliseconds(20));

        // The next tick pings (at most 10 s), the ping times out 3 s later.
        Assert.InRange((_time.GetUtcNow() - frozenAt).TotalSeconds, 3, 13 + halfSecond.TotalSeconds);
        await AdvanceUntilAsync(() => replica.IsReady, TimeSpan.FromSeconds(5), settle: TimeSpan.FromMilliseconds(5));
        var status = replica.Status();
        Assert.Equal(2, _transports.Attempts.Count);
        Assert.Equal("health check failed: no answer to ping within 3s", status.LastExit);
        Assert.Equal(1, status.Restarts);
    }

    [Fact]
    public async Task IdleServer_IsStoppedAfterIdleStop_KeptWhileUsed_AndStartedByTheNextCall()
    {
        var replica = Replica("idle_stop: 2m");
        await replica.GetSessionAsync(CancellationToken.None);
        var first = _transports.Sessions.Single();

        // Used every minute: never idle.
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await replica.GetSessionAsync(CancellationToken.None);
        }

        Assert.False(first.Disposed);
        var lastUse = _time.GetUtcNow();
        await AdvanceUntilAsync(() => first.Disposed, TimeSpan.FromMinutes(4));

        // Stopped on the first tick (a quarter of idle_stop) after two idle minutes.
        Assert.InRange((_time.GetUtcNow() - lastUse).TotalSeconds, 120, 150 + Step.TotalSeconds);
        var status = replica.Status();
        Assert.Equal(UpstreamState.Stopped, status.State);
        Assert.Equal("stopped: idle for 2m (idle_stop)", status.LastExit);
        Assert.Equal(0, status.ConsecutiveFailures);

        // No restart by itself; the next call starts it.
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Single(_transports.Attempts);
        var (again, _) = await replica.GetSessionAsync(CancellationToken.None);
        Assert.NotNull(again);
        Assert.Equal(2, _transports.Attempts.Count);
    }

    [Fact]
    public async Task StartThatNeverFinishes_EndsAtStartTimeout_AndEveryWaiterHearsWhy()
    {
        _transports.Next = (_, cancellationToken) => ScriptedTransports.NeverInitialize(cancellationToken);
        var replica = Replica("start_timeout: 20s");

        var first = replica.GetSessionAsync(CancellationToken.None).AsTask();
        var second = replica.GetSessionAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(first.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        foreach (var (session, error) in await Task.WhenAll(first, second))
        {
            Assert.Null(session);
            Assert.Equal("did not finish initializing within 20s (start_timeout)", error.Message);
        }

        Assert.Single(_transports.Attempts); // one shared attempt
    }

    [Theory]
    [InlineData(0, 0.0, 0.8)]
    [InlineData(0, 1.0, 1.2)]
    [InlineData(2, 0.5, 4.0)]
    [InlineData(3, 0.5, 5.0)] // capped at max_backoff
    [InlineData(1000, 0.5, 5.0)] // no overflow however long the run of failures
    public void Backoff_DoublesFromTheInitialDelay_CappedAndJittered(int steps, double jitter, double seconds)
    {
        var policy = RestartPolicy.Default with { InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(5) };
        Assert.Equal(seconds, FailureHistory.Backoff(policy, steps, jitter).TotalSeconds, precision: 6);
    }

    [Theory]
    [InlineData(null, "2m", 30_000)]
    [InlineData("10s", "2m", 10_000)]
    [InlineData("1m", "2m", 30_000)]
    [InlineData("100ms", null, 250)]
    public void Tick_IsThePingInterval_OrAQuarterOfIdleStop_NeverUnder250ms(string? ping, string? idle, int milliseconds)
    {
        var policy = SupervisionPolicy.Default with
        {
            IdleStop = Duration(idle),
            Health = HealthPolicy.Default with { PingInterval = Duration(ping) },
        };
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ReplicaSupervisor.TickInterval(policy));
    }

    private static TimeSpan? Duration(string? text) => text is null ? null
        : Archestra.Edge.Utilities.Units.TryParseDuration(text, out var value) ? value : throw new FormatException(text);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A process server "s" with the given supervision keys, its one replica on the fake clock.</summary>
    private UpstreamReplica Replica(string supervision)
    {
        var keys = string.Join("\n", supervision.Split('\n').Select(line => "    " + line));
        var snapshot = ConfigLoader.Load($$"""
            servers:
              s:
                process: { command: unused }
            {{keys}}
            profiles:
              p: { tools: [{ server: s }] }
            """, "supervision.yaml", _ => null).Snapshot!;
        _server = new UpstreamServer(snapshot.Servers[0], DetachedUpstreams.Services(_time, _transports));
        return _server.Replicas[0];
    }

    /// <summary>Moves the clock in small steps until <paramref name="condition"/> holds; fails past <paramref name="limit"/>.</summary>
    private async Task AdvanceUntilAsync(Func<bool> condition, TimeSpan limit, TimeSpan? step = null, TimeSpan? settle = null)
    {
        var end = _time.GetUtcNow() + limit;
        while (!condition())
        {
            Assert.True(_time.GetUtcNow() < end, $"not reached within {limit} of fake time");
            _time.Advance(step ?? Step);

            // Timer callbacks run inside Advance; what they start may finish on the thread pool. Fake time only moves on
            // once that work is done (or a real second passed), so no step outruns a continuation on a busy machine.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            await Task.Yield();
            while (!condition() && ThreadPool.PendingWorkItemCount > 0 && waited.ElapsedMilliseconds < 1000)
            {
                await Task.Delay(1);
            }

            if (settle is { } pause && !condition())
            {
                await Task.Delay(pause);
            }
        }
    }
}
