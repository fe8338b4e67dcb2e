using Archestra.Edge.Configuration;
using Archestra.Edge.Upstreams.Builtin;
using Archestra.Edge.Upstreams.Http;
using Archestra.Edge.Upstreams.Processes;
using Archestra.Edge.Upstreams.Sse;
using Archestra.Edge.Upstreams.Stdio;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One replica of an upstream server, and its supervisor. It opens its upstream session on first use (or at
/// start for <c>start: eager</c>), hands it out lock-free while it lives, and for processes and containers:
/// restarts it after it exits (at once after a stable run, then with doubling, jittered delays), stops trying
/// for a while when it keeps failing (crash loop), pings it (<c>health</c>) and restarts it when it stops
/// answering, and stops it when idle (<c>idle_stop</c>). What it receives outside of calls goes to the
/// gateway's <see cref="IUpstreamEvents"/> on behalf of its <see cref="UpstreamServer"/>.
/// </summary>
internal sealed partial class UpstreamReplica : IUpstreamListener, IAsyncDisposable
{
    private readonly UpstreamServer _server;
    private readonly UpstreamServices _services;
    private readonly ILogger _logger;
    private readonly ReadOnlyMemory<byte> _initializeParameters;
    private readonly Lock _lock = new();
    private readonly ITimer? _restartTimer;
    private readonly ITimer? _tickTimer;
    private volatile UpstreamSession? _session;
    private Task<(UpstreamSession? Session, UpstreamError Error)>? _connecting;
    private UpstreamError _lastError;
    private long _retryAfter;
    private DateTimeOffset? _readySince;
    private DateTimeOffset? _lastExitAt;
    private string? _lastExit;
    private StderrTail? _stderr;
    private int _starts;
    private int _opened;
    private int _restarts;
    private int _failuresInARow;
    private long _lastUsed;
    private int _pinging;
    private bool _wanted;
    private volatile UpstreamState _state = UpstreamState.Stopped;
    private bool _disposed;

    private readonly ServerModel _model;

    public UpstreamReplica(UpstreamServer server, int index, UpstreamServices services, ILogger logger, ICallerContext? owner = null,
        ReadOnlyMemory<byte> initializeParameters = default, ServerModel? model = null, string? label = null)
    {
        _server = server;
        _model = model ?? server.Model;
        Label = label;
        Index = index;
        _services = services;
        _logger = logger;
        Owner = owner;
        _initializeParameters = initializeParameters.IsEmpty ? UpstreamSession.SharedInitializeParameters : initializeParameters;
        _lastUsed = services.TimeProvider.GetTimestamp();
        var supervision = Model.Supervision;
        if (Model.IsSelfHosted)
        {
            _restartTimer = services.TimeProvider.CreateTimer(static state => ((UpstreamReplica)state!).RestartNow(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (supervision.Health.PingInterval is not null || (Model.IsSelfHosted && supervision.IdleStop is not null))
        {
            var tick = TickInterval(supervision);
            _tickTimer = services.TimeProvider.CreateTimer(static state => _ = ((UpstreamReplica)state!).TickAsync(), this, tick, tick);
        }
    }

    /// <summary>The server's model, with this replica's credentials filled in when it has its own.</summary>
    public ServerModel Model => _model;

    /// <summary>What distinguishes this replica from its siblings in status (the credential selection), if anything.</summary>
    public string? Label { get; }

    /// <summary>The one downstream session this replica serves (<c>sharing: per_session</c>); null when shared.</summary>
    public ICallerContext? Owner { get; }

    ReadOnlyMemory<byte> IUpstreamListener.InitializeParameters => _initializeParameters;

    /// <summary>The server name, with the replica number when there are several (<c>name#2</c>), or the owner's session.</summary>
    public string Name => Owner is { } owner ? $"{Model.Name}@{owner.SessionId[..Math.Min(8, owner.SessionId.Length)]}"
        : Label is { } label ? $"{Model.Name}[{label}]"
        : Model.Replicas == 1 ? Model.Name : $"{Model.Name}#{Index + 1}";

    public int Index { get; }

    public bool IsReady => _session is { IsAlive: true };

    /// <summary>The live session, if any (null before first use and after it ended).</summary>
    public UpstreamSession? CurrentSession => _session is { IsAlive: true } session ? session : null;

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

    /// <summary>The scheduled restart is due: start now (the back-off it waited for is over).</summary>
    private void RestartNow()
    {
        lock (_lock)
        {
            if (_disposed || _session is { IsAlive: true })
            {
                return;
            }

            _retryAfter = 0;
        }

        _ = ConnectSlowAsync(CancellationToken.None);
    }

    public ReplicaStatus Status()
    {
        lock (_lock)
        {
            var session = CurrentSession;
            var info = session?.Info is { ServerName: { } name } i ? $"{name} {i.ServerVersion}".TrimEnd() : null;
            DateTimeOffset? next = _state is UpstreamState.Failed or UpstreamState.CrashLoop && _retryAfter > 0
                ? _services.TimeProvider.GetUtcNow() + _services.TimeProvider.GetElapsedTime(_services.TimeProvider.GetTimestamp(), _retryAfter)
                : null;
            return new ReplicaStatus(Index, _state, session?.Identity, _readySince, _starts, _lastError.IsError ? _lastError.Message : null, info)
            {
                Restarts = _restarts,
                LastExit = _lastExit,
                LastExitAt = _lastExitAt,
                NextAttemptAt = next,
                ConsecutiveFailures = _failuresInARow,
                StderrTail = _stderr?.Lines() ?? [],
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
                var now = _services.TimeProvider.GetTimestamp();
                if (_state is UpstreamState.Failed or UpstreamState.CrashLoop && now < _retryAfter)
                {
                    var wait = Utilities.Units.FormatDuration(_services.TimeProvider.GetElapsedTime(now, _retryAfter));
                    return (null, UpstreamError.Unavailable(_state == UpstreamState.CrashLoop
                        ? $"{_lastError.Message} (crash loop: {_failuresInARow} failures in a row; next attempt in {wait})"
                        : $"{_lastError.Message} (retrying in {wait})"));
                }

                if (_state is UpstreamState.Failed or UpstreamState.CrashLoop && _starts > 0)
                {
                    _restarts++;
                }

                _state = UpstreamState.Starting;
                _starts++;
                _connecting = ConnectAsync();
            }

            connecting = _connecting;
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
            result = _services.SessionFactory?.Invoke(Model, this) is { } injected
                ? (injected, UpstreamError.None)
                : await OpenAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = (null, UpstreamError.Unavailable($"did not finish initializing within {Utilities.Units.FormatDuration(Model.StartTimeout)} (start_timeout)"));
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
                _readySince = _services.TimeProvider.GetUtcNow();
                _lastError = UpstreamError.None;
                _stderr = (session as StdioUpstreamSession)?.Stderr;
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
            _services.Events.OnSessionOpened(_server, ready, reopened: Interlocked.Increment(ref _opened) > 1, Owner);
        }
        else
        {
            Log.ConnectFailed(_logger, Name, result.Error.Message);
            if ((Model.Supervision.Start == StartMode.Eager || _wanted) && retryIn is { } delay)
            {
                // Eager servers, and servers that were running, are kept running: the next attempt is scheduled,
                // not left to the next call.
                ScheduleRestart(delay);
            }
        }

        return result;
    }

    private async Task<(UpstreamSession?, UpstreamError)> OpenAsync(CancellationToken cancellationToken)
    {
        switch (Model.Kind)
        {
            case ServerKind.Remote when Model.Remote!.Transport == RemoteTransport.Sse:
                return await LegacySseUpstreamSession.ConnectAsync(Model, _services.CreateInvoker(), this, _logger, cancellationToken).ConfigureAwait(false);
            case ServerKind.Remote:
                return await HttpUpstreamSession.ConnectAsync(Model.Name, Model.Remote!, _services.CreateInvoker(), this, _logger, cancellationToken).ConfigureAwait(false);
            case ServerKind.Process:
                var process = Model.Process!;
                var launch = new ProcessLaunch(process.Command, process.Args, process.Environment, process.InheritEnvironment, process.WorkingDirectory);
                return await StdioUpstreamSession.StartAsync(launch, Name, _services.Children, this, _logger, _services.TimeProvider, cancellationToken).ConfigureAwait(false);
            case ServerKind.Container:
                return await OpenContainerAsync(cancellationToken).ConfigureAwait(false);
            default:
                return (new ArchestraBuiltinSession(Model.Name, _services.Introspection, _services.TimeProvider), UpstreamError.None);
        }
    }

    private async Task<(UpstreamSession?, UpstreamError)> OpenContainerAsync(CancellationToken cancellationToken)
    {
        var containers = _services.Containers;
        var model = Model.Container!;
        var check = await Containers.ContainerRuntime.CheckImageAsync(model, cancellationToken).ConfigureAwait(false);
        if (check.IsError)
        {
            return (null, check);
        }

        if (model.Transport == ContainerTransport.Stdio)
        {
            var launch = containers.StdioLaunch(Model, Directory.GetCurrentDirectory());
            return await StdioUpstreamSession.StartAsync(launch, Name, _services.Children, this, _logger, _services.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        var (url, name, error) = await containers.StartHttpAsync(Model, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return (null, error);
        }

        var remote = new RemoteServerModel(url, []);
        var (session, connectError) = await HttpUpstreamSession.ConnectAsync(Model.Name, remote, _services.CreateInvoker(), this, _logger, cancellationToken,
            identity: $"container {name}", onDisposed: () => containers.RemoveAsync(model.Runtime, name)).ConfigureAwait(false);
        if (session is null)
        {
            return (null, connectError); // the failed session removed its container
        }

        // HTTP says nothing when the server dies: the runtime does. An exited container ends the session like a crash.
        _ = WatchContainerAsync(session, model.Runtime, name);
        return (session, connectError);
    }

    private static async Task WatchContainerAsync(HttpUpstreamSession session, ContainerRuntimeKind runtime, string name)
    {
        var code = await Containers.ContainerRuntime.WaitForExitAsync(runtime, name, CancellationToken.None).ConfigureAwait(false);
        if (session.IsAlive)
        {
            session.End(UpstreamError.Failed(code is { } exit ? $"container {name} exited with code {exit}" : $"container {name} is gone"));
        }
    }

    /// <summary>
    /// Counts a failed start or an exit, and says when to try again: at once after a stable run, then the initial
    /// back-off doubling to the maximum (±20% jitter, so replicas do not restart in lockstep); after too many in a
    /// row, the crash-loop pause. Called under the lock.
    /// </summary>
    private TimeSpan RecordFailure(UpstreamError error, bool crashed)
    {
        var policy = Model.Supervision.Restart;
        var now = _services.TimeProvider.GetUtcNow();
        if (crashed && _readySince is { } since && now - since >= RestartPolicy.StableAfter)
        {
            _failuresInARow = 0;
        }

        _failuresInARow++;
        _lastError = error;
        _readySince = null;
        TimeSpan delay;
        if (_failuresInARow >= policy.CrashLoopAfter && Model.IsSelfHosted)
        {
            _state = UpstreamState.CrashLoop;
            delay = policy.CrashLoopPause;
            Log.CrashLoop(_logger, Name, _failuresInARow, Utilities.Units.FormatDuration(delay), error.Message);
        }
        else
        {
            _state = UpstreamState.Failed;
            var steps = crashed ? _failuresInARow - 2 : _failuresInARow - 1;
            delay = steps < 0 ? TimeSpan.Zero : Backoff(policy, steps);
        }

        _retryAfter = _services.TimeProvider.GetTimestamp() + (long)(delay.TotalSeconds * _services.TimeProvider.TimestampFrequency);
        return delay;
    }

    private static TimeSpan Backoff(RestartPolicy policy, int steps)
    {
        var seconds = policy.InitialBackoff.TotalSeconds * Math.Pow(2, Math.Min(steps, 30));
        seconds = Math.Min(seconds, policy.MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private void ScheduleRestart(TimeSpan delay)
    {
        if (_restartTimer is null)
        {
            return;
        }

        Log.RestartScheduled(_logger, Name, Utilities.Units.FormatDuration(delay));
        _restartTimer.Change(delay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : delay, Timeout.InfiniteTimeSpan);
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
            _lastExit = reason.IsError ? reason.Message : "ended";
            _lastExitAt = _services.TimeProvider.GetUtcNow();
            if (reason.IsError)
            {
                restartIn = RecordFailure(reason, crashed: true);
            }
            else
            {
                _readySince = null;
                _state = UpstreamState.Stopped;
            }
        }

        if (reason.IsError)
        {
            Log.Closed(_logger, Name, reason.Message);
        }

        if (restartIn is { } delay && Model.IsSelfHosted && !_disposed)
        {
            // A process or container that exits is brought back (lazy ones too: they were in use).
            ScheduleRestart(delay);
        }

        _services.Events.OnSessionClosed(_server, session, Owner);
    }

    /// <summary>Health pings and idle stops, on a timer.</summary>
    private async Task TickAsync()
    {
        var session = CurrentSession;
        if (session is null || _disposed)
        {
            return;
        }

        var supervision = Model.Supervision;
        if (Model.IsSelfHosted && supervision.IdleStop is { } idle
            && _services.TimeProvider.GetElapsedTime(Volatile.Read(ref _lastUsed)) > idle)
        {
            await StopAsync(session, $"idle for {Utilities.Units.FormatDuration(idle)} (idle_stop)").ConfigureAwait(false);
            return;
        }

        if (supervision.Health.PingInterval is null || Interlocked.Exchange(ref _pinging, 1) == 1)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(supervision.Health.PingTimeout, _services.TimeProvider);
            var (response, error) = await session.RequestAsync("ping"u8.ToArray(), default, timeout.Token).ConfigureAwait(false);
            response?.Dispose();
            if (response is null && session.IsAlive && ReferenceEquals(session, _session))
            {
                await FailHealthAsync(session, error.Message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            if (session.IsAlive && ReferenceEquals(session, _session))
            {
                await FailHealthAsync(session, $"no answer to ping within {Utilities.Units.FormatDuration(supervision.Health.PingTimeout)}").ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _pinging, 0);
        }
    }

    /// <summary>A server that stopped answering pings is stopped and, being self-hosted, restarted like a crash.</summary>
    private async Task FailHealthAsync(UpstreamSession session, string reason)
    {
        Log.HealthFailed(_logger, Name, reason);
        TimeSpan? restartIn = null;
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            var error = UpstreamError.Failed($"health check failed: {reason}");
            _lastExit = error.Message;
            _lastExitAt = _services.TimeProvider.GetUtcNow();
            restartIn = RecordFailure(error, crashed: true);
        }

        await session.DisposeAsync().ConfigureAwait(false);
        _services.Events.OnSessionClosed(_server, session, Owner);
        if (Model.IsSelfHosted && restartIn is { } delay)
        {
            ScheduleRestart(delay);
        }
    }

    private async Task StopAsync(UpstreamSession session, string reason)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            _readySince = null;
            _wanted = false;
            _state = UpstreamState.Stopped;
            _lastExit = $"stopped: {reason}";
            _lastExitAt = _services.TimeProvider.GetUtcNow();
        }

        Log.IdleStopped(_logger, Name, reason);
        await session.DisposeAsync().ConfigureAwait(false);
        _services.Events.OnSessionClosed(_server, session, Owner);
    }

    private static TimeSpan TickInterval(SupervisionPolicy supervision)
    {
        var tick = supervision.Health.PingInterval ?? TimeSpan.MaxValue;
        if (supervision.IdleStop is { } idle)
        {
            var quarter = idle / 4;
            tick = quarter < tick ? quarter : tick;
        }

        return tick < TimeSpan.FromMilliseconds(250) ? TimeSpan.FromMilliseconds(250) : tick;
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

        _restartTimer?.Dispose();
        _tickTimer?.Dispose();
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

        [LoggerMessage(Observability.EventIds.ProcessRestartScheduled, LogLevel.Information, "Upstream '{Server}' will be started again in {Delay}")]
        public static partial void RestartScheduled(ILogger logger, string server, string delay);

        [LoggerMessage(Observability.EventIds.UpstreamCrashLoop, LogLevel.Error, "Upstream '{Server}' failed {Failures} times in a row; left alone for {Pause} (crash loop). Last error: {Reason}")]
        public static partial void CrashLoop(ILogger logger, string server, int failures, string pause, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamHealthFailed, LogLevel.Warning, "Upstream '{Server}' failed its health check: {Reason}; restarting it")]
        public static partial void HealthFailed(ILogger logger, string server, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamIdleStopped, LogLevel.Information, "Upstream '{Server}' stopped: {Reason}")]
        public static partial void IdleStopped(ILogger logger, string server, string reason);
    }
}
