using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>Ends sessions that have been idle longer than <c>limits.session_idle_timeout</c>.</summary>
internal sealed partial class SessionSweeper : BackgroundService
{
    private readonly GatewayHost _host;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public SessionSweeper(GatewayHost host, TimeProvider timeProvider, ILogger<SessionSweeper> logger)
    {
        _host = host;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = _host.Current.Snapshot.Limits.SessionIdleTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(idle.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(period, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Sweep();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One pass: ends every session idle past the limit. Returns how many ended.</summary>
    internal int Sweep()
    {
        var runtime = _host.Current;
        var limit = runtime.Snapshot.Limits.SessionIdleTimeout;
        var ended = 0;
        foreach (var session in runtime.Sessions.All)
        {
            if (session.IdleFor() > limit)
            {
                runtime.EndSession(session);
                Log.IdleExpired(_logger, session.ProfileName, session.ClientName ?? "an unnamed client");
                ended++;
            }
        }

        return ended;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.SessionIdleExpired, LogLevel.Information, "Ended an idle session on profile '{Profile}' ({Client})")]
        public static partial void IdleExpired(ILogger logger, string profile, string client);
    }
}
