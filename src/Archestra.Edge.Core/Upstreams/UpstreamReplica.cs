using Archestra.Edge.Configuration;
using Archestra.Edge.Upstreams.Builtin;
using Archestra.Edge.Upstreams.Http;
using Archestra.Edge.Upstreams.Sse;
using Archestra.Edge.Upstreams.Stdio;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One replica of an upstream server: it opens its (shared) upstream session on first use, hands it out
/// lock-free while it lives, opens a new one after it ends, and backs off after failed starts so a broken
/// server is not hammered. What it receives outside of calls goes to the gateway's <see cref="IUpstreamEvents"/>
/// on behalf of its <see cref="UpstreamServer"/>.
/// </summary>
internal sealed partial class UpstreamReplica : IUpstreamListener, IAsyncDisposable
{
    private static readonly TimeSpan s_initialBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maximumBackoff = TimeSpan.FromSeconds(30);

    private readonly UpstreamServer _server;
    private readonly UpstreamServices _services;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private volatile UpstreamSession? _session;
    private Task<(UpstreamSession? Session, UpstreamError Error)>? _connecting;
    private UpstreamError _lastError;
    private long _retryAfter;
    private TimeSpan _backoff = s_initialBackoff;
    private DateTimeOffset? _readySince;
    private int _starts;
    private int _opened;
    private volatile UpstreamState _state = UpstreamState.Stopped;
    private bool _disposed;

    private readonly ReadOnlyMemory<byte> _initializeParameters;

    public UpstreamReplica(UpstreamServer server, int index, UpstreamServices services, ILogger logger, ICallerContext? owner = null, ReadOnlyMemory<byte> initializeParameters = default)
    {
        _server = server;
        Index = index;
        _services = services;
        _logger = logger;
        Owner = owner;
        _initializeParameters = initializeParameters.IsEmpty ? UpstreamSession.SharedInitializeParameters : initializeParameters;
    }

    /// <summary>The one downstream session this replica serves (<c>sharing: per_session</c>); null when shared.</summary>
    public ICallerContext? Owner { get; }

    ReadOnlyMemory<byte> IUpstreamListener.InitializeParameters => _initializeParameters;

    public ServerModel Model => _server.Model;

    /// <summary>The server name, with the replica number when there are several (<c>name#2</c>).</summary>
    public string Name => Owner is { } owner ? $"{Model.Name}@{owner.SessionId[..Math.Min(8, owner.SessionId.Length)]}" : Model.Replicas == 1 ? Model.Name : $"{Model.Name}#{Index + 1}";

    public int Index { get; }

    public bool IsReady => _session is { IsAlive: true };

    /// <summary>The live session, if any (null before first use and after it ended).</summary>
    public UpstreamSession? CurrentSession => _session is { IsAlive: true } session ? session : null;

    /// <summary>Returns the live session, opening one if needed. Fast path: one volatile read.</summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> GetSessionAsync(CancellationToken cancellationToken)
    {
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

    public ReplicaStatus Status()
    {
        lock (_lock)
        {
            var session = CurrentSession;
            var info = session?.Info is { ServerName: { } name } i ? $"{name} {i.ServerVersion}".TrimEnd() : null;
            return new ReplicaStatus(Index, _state, session?.Identity, _readySince, _starts, _lastError.IsError ? _lastError.Message : null, info);
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
                if (_state == UpstreamState.Failed && now < _retryAfter)
                {
                    return (null, UpstreamError.Unavailable($"{_lastError.Message} (retrying in {Utilities.Units.FormatDuration(_services.TimeProvider.GetElapsedTime(now, _retryAfter))})"));
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
            // Connecting is not tied to the first caller's cancellation: others may be waiting too.
            using var timeout = new CancellationTokenSource(Model.CallTimeout, _services.TimeProvider);
            result = _services.SessionFactory?.Invoke(Model, this) is { } injected ? ((UpstreamSession?)injected, UpstreamError.None) : Model.Kind switch
            {
                ServerKind.Remote when Model.Remote!.Transport == RemoteTransport.Sse
                    => await LegacySseUpstreamSession.ConnectAsync(Model, _services.CreateInvoker(), this, _logger, timeout.Token).ConfigureAwait(false),
                ServerKind.Remote => await HttpUpstreamSession.ConnectAsync(Model, _services.CreateInvoker(), this, _logger, timeout.Token).ConfigureAwait(false),
                ServerKind.Process => await StdioUpstreamSession.StartAsync(Model, Name, this, _logger, _services.TimeProvider, timeout.Token).ConfigureAwait(false),
                _ => (new ArchestraBuiltinSession(Model.Name, _services.Introspection, _services.TimeProvider), UpstreamError.None),
            };
        }
        catch (OperationCanceledException)
        {
            result = (null, UpstreamError.Unavailable($"did not finish initializing within {Utilities.Units.FormatDuration(Model.CallTimeout)}"));
        }
        catch (Exception ex)
        {
            result = (null, UpstreamError.Unavailable($"{ex.GetType().Name}: {ex.Message}"));
        }

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
                _backoff = s_initialBackoff;
            }
            else
            {
                _state = UpstreamState.Failed;
                _lastError = result.Error;
                _retryAfter = _services.TimeProvider.GetTimestamp() + (long)(_backoff.TotalSeconds * _services.TimeProvider.TimestampFrequency);
                _backoff = _backoff * 2 > s_maximumBackoff ? s_maximumBackoff : _backoff * 2;
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
        }

        return result;
    }

    void IUpstreamListener.OnNotification(UpstreamSession session, UpstreamMessage message)
        => _services.Events.OnNotification(_server, session, message, Owner);

    void IUpstreamListener.OnRequest(UpstreamSession session, UpstreamMessage message)
        => _services.Events.OnRequest(_server, session, message, Owner);

    void IUpstreamListener.OnClosed(UpstreamSession session, UpstreamError reason)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            _readySince = null;
            _state = reason.IsError ? UpstreamState.Failed : UpstreamState.Stopped;
            if (reason.IsError)
            {
                // A crash is not a failed start: the next call may start it again at once.
                _lastError = reason;
                _retryAfter = 0;
            }
        }

        if (reason.IsError)
        {
            Log.Closed(_logger, Name, reason.Message);
        }

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
    }
}
