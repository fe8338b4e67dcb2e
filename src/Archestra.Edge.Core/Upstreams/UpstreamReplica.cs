using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.Supervision;
using Archestra.Edge.Upstreams.Supervision.Processes;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One replica of an upstream server: it holds the session, opens it on first use (or at start for
/// <c>start: eager</c>) through the <see cref="ITransportFactory"/>, and hands it out lock-free while it lives. Every
/// caller shares one connection attempt. Its <see cref="ReplicaSupervisor"/> brings self-hosted servers back after
/// they fail (when the <see cref="FailureHistory"/> says), stops them when idle and pings them. What it receives
/// outside of calls goes to the gateway's <see cref="IUpstreamEvents"/> on behalf of its <see cref="UpstreamServer"/>.
/// </summary>
internal sealed partial class UpstreamReplica : IUpstreamListener, ISupervisedReplica, IAsyncDisposable
{
    private readonly UpstreamServer _server;
    private readonly UpstreamServices _services;
    private readonly ILogger _logger;
    private readonly ReadOnlyMemory<byte> _initializeParameters;
    private readonly Lock _lock = new();
    private readonly FailureHistory _failures;
    private readonly ReplicaSupervisor _supervisor;
    private volatile UpstreamSession? _session;
    private Task<(UpstreamSession? Session, UpstreamError Error)>? _connecting;
    private volatile UpstreamState _state = UpstreamState.Stopped;
    private UpstreamError _lastError;
    private ExitRecord _lastExit;
    private StderrTail? _stderr;
    private Counters _counters;
    private long _lastUsed;
    private bool _wanted;
    private bool _disposed;

    public UpstreamReplica(UpstreamServer server, int index, UpstreamServices services, ILogger logger, ICallerContext? owner = null,
        ReadOnlyMemory<byte> initializeParameters = default, ServerModel? model = null, string? label = null)
    {
        _server = server;
        Model = model ?? server.Model;
        Label = label;
        Index = index;
        _services = services;
        _logger = logger;
        Owner = owner;
        _initializeParameters = initializeParameters.IsEmpty ? UpstreamSession.SharedInitializeParameters : initializeParameters;
        _lastUsed = services.TimeProvider.GetTimestamp();
        _failures = new FailureHistory(services.TimeProvider);
        _supervisor = new ReplicaSupervisor(this, Model, services.TimeProvider, logger);
    }

    /// <summary>The server's model, with this replica's credentials filled in when it has its own.</summary>
    public ServerModel Model { get; }

    /// <summary>What distinguishes this replica from its siblings in status (the credential selection), if anything.</summary>
    public string? Label { get; }

    /// <summary>The one downstream session this replica serves (<c>sharing: per_session</c>); null when shared.</summary>
    public ICallerContext? Owner { get; }

    ReadOnlyMemory<byte> IUpstreamListener.InitializeParameters => _initializeParameters;

    /// <inheritdoc/>
    public string? KnownEra { get; set; }

    /// <summary>The server name, with the replica number when there are several (<c>name#2</c>), or the owner's session.</summary>
    public string Name => Owner is { } owner ? $"{Model.Name}@{owner.SessionId[..Math.Min(8, owner.SessionId.Length)]}"
        : Label is { } label ? $"{Model.Name}[{label}]"
        : Model.Replicas == 1 ? Model.Name : $"{Model.Name}#{Index + 1}";

    public int Index { get; }

    public bool IsReady => _session is { IsAlive: true };

    /// <summary>The live session, if any (null before first use and after it ended).</summary>
    public UpstreamSession? CurrentSession => _session is { IsAlive: true } session ? session : null;

    long ISupervisedReplica.LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Returns the live session, opening one if needed. Fast path: one volatile read and a timestamp.</summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> GetSessionAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastUsed, _services.TimeProvider.GetTimestamp());
        var session = _session;
        if (session is { IsAlive: true })
        {
            return ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((session, UpstreamError.None));
        }

        return new ValueTask<(UpstreamSession?, UpstreamError)>(ConnectSlowAsync(cancellationToken));
    }

    /// <summary>Starts the session in the background if it is down and not backing off after a failure.</summary>
    public void WarmUp()
    {
        if (_session is { IsAlive: true } || _state == UpstreamState.Starting)
        {
            return;
        }

        _ = ConnectSlowAsync(CancellationToken.None);
    }

    void ISupervisedReplica.RestartNow()
    {
        lock (_lock)
        {
            if (_disposed || _session is { IsAlive: true })
            {
                return;
            }

            _failures.Due();
        }

        _ = ConnectSlowAsync(CancellationToken.None);
    }

    public ReplicaStatus Status()
    {
        lock (_lock)
        {
            var session = CurrentSession;
            var info = session?.Info is { ServerName: { } name } i ? $"{name} {i.ServerVersion}".TrimEnd() : null;
            return new ReplicaStatus(Index, _state, session?.Identity, _failures.ReadySince, _counters.Starts, _lastError.IsError ? _lastError.Message : null, info)
            {
                Restarts = _counters.Restarts,
                LastExit = _lastExit.Reason,
                LastExitAt = _lastExit.At,
                NextAttemptAt = _state is UpstreamState.Failed or UpstreamState.CrashLoop ? _failures.NextAttemptAt : null,
                ConsecutiveFailures = _failures.InARow,
                StderrTail = _stderr?.Lines() ?? [],
                ProtocolVersion = session?.Info.ProtocolVersion is { Length: > 0 } version ? version : null,
            };
        }
    }

    private async Task<(UpstreamSession?, UpstreamError)> ConnectSlowAsync(CancellationToken cancellationToken)
    {
        Task<(UpstreamSession? Session, UpstreamError Error)> connecting;
        lock (_lock)
        {
            if (_session is { IsAlive: true } live)
            {
                return (live, UpstreamError.None);
            }

            if (_disposed)
            {
                return (null, UpstreamError.Unavailable("the gateway is shutting down"));
            }

            if (_connecting is null)
            {
                var failed = _state is UpstreamState.Failed or UpstreamState.CrashLoop;
                if (failed && _failures.Remaining() is { Ticks: > 0 } remaining)
                {
                    var wait = Units.FormatDuration(remaining);
                    return (null, UpstreamError.Unavailable(_state == UpstreamState.CrashLoop
                        ? $"{_lastError.Message} (crash loop: {_failures.InARow} failures in a row; next attempt in {wait})"
                        : $"{_lastError.Message} (retrying in {wait})"));
                }

                if (failed && _counters.Starts > 0)
                {
                    _counters.Restarts++;
                }

                _state = UpstreamState.Starting;
                _counters.Starts++;
                var attempt = ConnectAsync();

                // An attempt that finished at once has already recorded its outcome (and cleared _connecting, the lock
                // being re-entrant); keeping it would hand its result to every later caller. One that is still running
                // clears _connecting when it ends, which it cannot do before this lock is released.
                if (!attempt.IsCompleted)
                {
                    _connecting = attempt;
                }

                connecting = attempt;
            }
            else
            {
                connecting = _connecting;
            }
        }

        // Every waiter shares one connection attempt; each may give up on its own token.
        return await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<(UpstreamSession?, UpstreamError)> ConnectAsync()
    {
        Log.Connecting(_logger, Name);
        (UpstreamSession? Session, UpstreamError Error) result;
        try
        {
            // Connecting is not tied to the first caller's cancellation: others may be waiting too, and a start that
            // outlasts a call is still worth finishing for the next one.
            using var timeout = new CancellationTokenSource(Model.StartTimeout, _services.TimeProvider);
            result = await _services.Transports.OpenAsync(Model, Name, this, _logger, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = (null, UpstreamError.Unavailable($"did not finish initializing within {Units.FormatDuration(Model.StartTimeout)} (start_timeout)"));
        }
        catch (Exception ex)
        {
            result = (null, UpstreamError.Unavailable($"{ex.GetType().Name}: {ex.Message}"));
        }

        TimeSpan? retryIn = null;
        lock (_lock)
        {
            _connecting = null;
            if (result.Session is { } session)
            {
                if (_disposed)
                {
                    _ = session.DisposeAsync().AsTask();
                    return (null, UpstreamError.Unavailable("the gateway is shutting down"));
                }

                _session = session;
                _state = UpstreamState.Ready;
                _failures.OnReady();
                _lastError = UpstreamError.None;
                _stderr = session.Stderr;
                _wanted = true;
            }
            else
            {
                retryIn = RecordFailure(result.Error, crashed: false);
            }
        }

        if (result.Session is { } ready)
        {
            Log.Ready(_logger, Name, ready.Info.ServerName ?? "?", ready.Info.ProtocolVersion);
            _services.Events.OnSessionOpened(_server, ready, reopened: Interlocked.Increment(ref _counters.Opened) > 1, Owner);
        }
        else
        {
            Log.ConnectFailed(_logger, Name, result.Error.Message);
            if ((Model.Supervision.Start == StartMode.Eager || _wanted) && retryIn is { } delay)
            {
                // Eager servers, and servers that were running, are kept running: the next attempt is scheduled,
                // not left to the next call.
                _supervisor.ScheduleRestart(delay);
            }
        }

        return result;
    }

    /// <summary>Counts a failed start or an exit in the history and takes the state it implies. Called under the lock.</summary>
    private TimeSpan RecordFailure(UpstreamError error, bool crashed)
    {
        _lastError = error;
        var (state, delay) = _failures.Record(Model.Supervision.Restart, crashed, Model.IsSelfHosted);
        _state = state;
        if (state == UpstreamState.CrashLoop)
        {
            Log.CrashLoop(_logger, Name, _failures.InARow, Units.FormatDuration(delay), error.Message);
        }

        return delay;
    }

    void IUpstreamListener.OnNotification(UpstreamSession session, UpstreamMessage message)
        => _services.Events.OnNotification(_server, session, message, Owner);

    void IUpstreamListener.OnRequest(UpstreamSession session, UpstreamMessage message)
        => _services.Events.OnRequest(_server, session, message, Owner);

    void IUpstreamListener.OnClosed(UpstreamSession session, UpstreamError reason)
    {
        TimeSpan? restartIn = null;
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            _lastExit = new ExitRecord(reason.IsError ? reason.Message : "ended", _services.TimeProvider.GetUtcNow());
            if (reason.IsError)
            {
                restartIn = RecordFailure(reason, crashed: true);
            }
            else
            {
                _failures.OnStopped();
                _state = UpstreamState.Stopped;
            }
        }

        if (reason.IsError)
        {
            Log.Closed(_logger, Name, reason.Message);
        }

        if (restartIn is { } delay && Model.IsSelfHosted)
        {
            // A process or container that exits is brought back (lazy ones too: they were in use).
            _supervisor.ScheduleRestart(delay);
        }

        _services.Events.OnSessionClosed(_server, session, Owner);
    }

    /// <summary>A server that stopped answering pings is stopped and, being self-hosted, restarted like a crash.</summary>
    async Task ISupervisedReplica.FailHealthAsync(UpstreamSession session, string reason)
    {
        TimeSpan restartIn;
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            var error = UpstreamError.Failed($"health check failed: {reason}");
            _lastExit = new ExitRecord(error.Message, _services.TimeProvider.GetUtcNow());
            restartIn = RecordFailure(error, crashed: true);
        }

        await session.DisposeAsync().ConfigureAwait(false);
        _services.Events.OnSessionClosed(_server, session, Owner);
        if (Model.IsSelfHosted)
        {
            _supervisor.ScheduleRestart(restartIn);
        }
    }

    /// <summary>Stops the session on purpose (idle stop); the next call starts it again.</summary>
    async Task ISupervisedReplica.StopAsync(UpstreamSession session, string reason)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            _failures.OnStopped();
            _wanted = false;
            _state = UpstreamState.Stopped;
            _lastExit = new ExitRecord($"stopped: {reason}", _services.TimeProvider.GetUtcNow());
        }

        Log.IdleStopped(_logger, Name, reason);
        await session.DisposeAsync().ConfigureAwait(false);
        _services.Events.OnSessionClosed(_server, session, Owner);
    }

    public async ValueTask DisposeAsync()
    {
        UpstreamSession? session;
        Task<(UpstreamSession? Session, UpstreamError Error)>? connecting;
        lock (_lock)
        {
            _disposed = true;
            session = _session;
            _session = null;
            connecting = _connecting;
            _state = UpstreamState.Stopped;
        }

        _supervisor.Dispose();
        if (connecting is not null)
        {
            var (late, _) = await connecting.ConfigureAwait(false);
            if (late is not null)
            {
                await late.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How the last session ended, and when.</summary>
    private readonly record struct ExitRecord(string? Reason, DateTimeOffset? At);

    /// <summary>Starts attempted, restarts among them, and sessions opened (status and the reopened flag).</summary>
    private struct Counters
    {
        public int Starts;
        public int Restarts;
        public int Opened;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.UpstreamConnecting, LogLevel.Debug, "Connecting to upstream '{Server}'")]
        public static partial void Connecting(ILogger logger, string server);

        [LoggerMessage(Observability.EventIds.UpstreamReady, LogLevel.Information, "Upstream '{Server}' is ready ({ServerInfo}, protocol {ProtocolVersion})")]
        public static partial void Ready(ILogger logger, string server, string serverInfo, string protocolVersion);

        [LoggerMessage(Observability.EventIds.UpstreamConnectFailed, LogLevel.Warning, "Upstream '{Server}' is unavailable: {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string server, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamClosed, LogLevel.Warning, "Upstream '{Server}' session ended: {Reason}")]
        public static partial void Closed(ILogger logger, string server, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamCrashLoop, LogLevel.Error, "Upstream '{Server}' failed {Failures} times in a row; left alone for {Pause} (crash loop). Last error: {Reason}")]
        public static partial void CrashLoop(ILogger logger, string server, int failures, string pause, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamIdleStopped, LogLevel.Information, "Upstream '{Server}' stopped: {Reason}")]
        public static partial void IdleStopped(ILogger logger, string server, string reason);
    }
}
