using Archestra.Edge.Model;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Supervision;

/// <summary>
/// The timers of one replica, on the gateway's <see cref="TimeProvider"/>: the scheduled restart of a self-hosted
/// server after it failed or exited, and the tick that stops it when idle (<c>idle_stop</c>) and pings it
/// (<c>health</c>), failing it when a ping goes unanswered.
/// </summary>
internal sealed partial class ReplicaSupervisor : IDisposable
{
    /// <summary>The shortest tick, whatever <c>idle_stop</c> and <c>ping_interval</c> ask for.</summary>
    internal static readonly TimeSpan MinimumTick = TimeSpan.FromMilliseconds(250);

    private static readonly byte[] PingMethod = "ping"u8.ToArray();

    private readonly ISupervisedReplica _replica;
    private readonly ServerModel _model;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ITimer? _restartTimer;
    private readonly ITimer? _tickTimer;
    private int _pinging;
    private volatile bool _disposed;

    public ReplicaSupervisor(ISupervisedReplica replica, ServerModel model, TimeProvider timeProvider, ILogger logger)
    {
        _replica = replica;
        _model = model;
        _timeProvider = timeProvider;
        _logger = logger;
        var supervision = model.Supervision;
        if (model.IsSelfHosted)
        {
            _restartTimer = timeProvider.CreateTimer(static state => ((ReplicaSupervisor)state!).OnRestartDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (supervision.Health.PingInterval is not null || (model.IsSelfHosted && supervision.IdleStop is not null))
        {
            var tick = TickInterval(supervision);
            _tickTimer = timeProvider.CreateTimer(static state => _ = ((ReplicaSupervisor)state!).TickAsync(), this, tick, tick);
        }
    }

    /// <summary>Starts the server again after <paramref name="delay"/> (self-hosted servers only; others wait for a call).</summary>
    public void ScheduleRestart(TimeSpan delay)
    {
        if (_restartTimer is null || _disposed)
        {
            return;
        }

        Log.RestartScheduled(_logger, _replica.Name, Units.FormatDuration(delay));
        _restartTimer.Change(delay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : delay, Timeout.InfiniteTimeSpan);
    }

    private void OnRestartDue()
    {
        if (!_disposed)
        {
            _replica.RestartNow();
        }
    }

    /// <summary>Idle stop first (a stopped server needs no ping), then one ping at a time.</summary>
    internal async Task TickAsync()
    {
        var session = _replica.CurrentSession;
        if (session is null || _disposed)
        {
            return;
        }

        var supervision = _model.Supervision;
        if (_model.IsSelfHosted && supervision.IdleStop is { } idle && _timeProvider.GetElapsedTime(_replica.LastUsed) > idle)
        {
            await _replica.StopAsync(session, $"idle for {Units.FormatDuration(idle)} (idle_stop)").ConfigureAwait(false);
            return;
        }

        if (supervision.Health.PingInterval is null || Interlocked.Exchange(ref _pinging, 1) == 1)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(supervision.Health.PingTimeout, _timeProvider);
            var (response, error) = await session.RequestAsync(PingMethod, default, timeout.Token).ConfigureAwait(false);
            response?.Dispose();
            if (response is null && session.IsAlive && !_disposed)
            {
                await FailAsync(session, error.Message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            if (session.IsAlive && !_disposed)
            {
                await FailAsync(session, $"no answer to ping within {Units.FormatDuration(supervision.Health.PingTimeout)}").ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _pinging, 0);
        }
    }

    private Task FailAsync(UpstreamSession session, string reason)
    {
        Log.HealthFailed(_logger, _replica.Name, reason);
        return _replica.FailHealthAsync(session, reason);
    }

    /// <summary>A ping interval, or a quarter of the idle stop when that is sooner; never under <see cref="MinimumTick"/>.</summary>
    internal static TimeSpan TickInterval(SupervisionPolicy supervision)
    {
        var tick = supervision.Health.PingInterval ?? TimeSpan.MaxValue;
        if (supervision.IdleStop is { } idle)
        {
            var quarter = idle / 4;
            tick = quarter < tick ? quarter : tick;
        }

        return tick < MinimumTick ? MinimumTick : tick;
    }

    public void Dispose()
    {
        _disposed = true;
        _restartTimer?.Dispose();
        _tickTimer?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ProcessRestartScheduled, LogLevel.Information, "Upstream '{Server}' will be started again in {Delay}")]
        public static partial void RestartScheduled(ILogger logger, string server, string delay);

        [LoggerMessage(Observability.EventIds.UpstreamHealthFailed, LogLevel.Warning, "Upstream '{Server}' failed its health check: {Reason}; restarting it")]
        public static partial void HealthFailed(ILogger logger, string server, string reason);
    }
}
