using System.Collections.Concurrent;
using System.Threading.Channels;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>
/// One downstream MCP session (an <c>Mcp-Session-Id</c> issued by the gateway). Holds what the client
/// negotiated, its log level, the calls it has in flight (for cancellation), the server-to-client requests
/// waiting for its answer, and the queue of messages for its GET stream.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The CancellationTokenSource has no timer; it may outlive Close() because calls still hold its token, and is left to the GC.")]
internal sealed class DownstreamSession : ICallerContext
{
    // Messages for a client that has no GET stream open wait here; the oldest are dropped past this.
    private const int OutboundCapacity = 1024;

    private readonly TimeProvider _timeProvider;
    private static readonly BoundedChannelOptions s_outboundOptions = new(OutboundCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false };

    // Made on first use: a 2026-07-28 request's context (one per request) never needs the queue or the table.
    private Channel<byte[]>? _outbound;
    private ConcurrentDictionary<long, PendingServerRequest>? _serverRequests;

    // Made when something first waits for the end (a GET or listen stream); a request's context never needs one.
    private CancellationTokenSource? _closed;
    private volatile bool _isClosed;
    private long _lastActivity;
    private long _nextServerRequestId;
    private CancellationTokenSource? _getStream;
    private int _getStreamGeneration;
    private volatile int _logLevel = LogLevels.Unset;

    public DownstreamSession(string id, ProfileRuntime profile, string protocolVersion, ClientCapabilities capabilities, string? clientName, string? clientVersion, TimeProvider timeProvider)
    {
        Id = id;
        _profile = profile;
        ProtocolVersion = protocolVersion;
        Capabilities = capabilities;
        ClientName = clientName;
        ClientVersion = clientVersion;
        _timeProvider = timeProvider;
        _lastActivity = timeProvider.GetTimestamp();
    }

    public string Id { get; }

    public string SessionId => Id;

    private volatile ProfileRuntime _profile;

    /// <summary>The profile it serves: replaced by a reload with the profile of the same name.</summary>
    public ProfileRuntime Profile => _profile;

    /// <summary>After a reload: serve the new runtime's profile of the same name.</summary>
    public void Rebind(ProfileRuntime profile) => _profile = profile;

    /// <summary>After a reload stopped <paramref name="server"/>: stops this session's own upstream session of it, if any.</summary>
    public void ReleaseOwnUpstream(UpstreamServer server)
    {
        UpstreamReplica? replica = null;
        lock (_ownLock)
        {
            if (_ownUpstreams?.Remove(server, out replica) != true)
            {
                return;
            }
        }

        _ = replica!.DisposeAsync().AsTask();
    }

    public string ProfileName => Profile.Name;

    public string ProtocolVersion { get; }

    public ClientCapabilities Capabilities { get; }

    public string? ClientName { get; }

    public string? ClientVersion { get; }

    /// <summary>Who opened the session; only the same party may use it.</summary>
    public Identity.Principal Caller { get; init; } = Identity.Principal.Anonymous;

    public string Principal => Caller.Name;

    public bool Authenticated => !ReferenceEquals(Caller, Identity.Principal.Anonymous);

    /// <summary>
    /// A 2026-07-28 request's context rather than a session: made for one request (or one <c>subscriptions/listen</c>
    /// stream) from its <c>_meta</c>, never found by id, closed when the request ends.
    /// </summary>
    public bool Stateless { get; init; }

    private byte[]? _modernMeta;
    private int _modernMetaLevel = int.MinValue;

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> ModernMeta
    {
        get
        {
            if (Stateless)
            {
                return default;
            }

            // Rebuilt only when the client changed its log level since.
            var level = _logLevel;
            if (_modernMeta is null || level != _modernMetaLevel)
            {
                _modernMeta = Upstreams.ModernMeta.For(Capabilities.Sampling, Capabilities.ElicitationForm, Capabilities.ElicitationUrl, Capabilities.Roots,
                    ClientName, ClientVersion, level < 0 ? null : LogLevels.Name(level));
                _modernMetaLevel = level;
            }

            return _modernMeta;
        }
    }

    /// <summary>A 2026-07-28 request's context whose call waits for the client's answers: not closed with its request.</summary>
    public bool Parked { get; set; }

    /// <summary>
    /// A 2026-07-28 request's headers, read only while that request lasts (its relay to a 2026-07-28 server happens
    /// within it; a parked call goes to a 2025 server, which gets no such headers).
    /// </summary>
    public Microsoft.AspNetCore.Http.IHeaderDictionary? RequestHeaders { get; init; }

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, string>>? ForwardedHeaders => RequestHeaders is { } headers ? Archestra.Edge.Gateway.Stateless.ModernEra.ParamHeaders(headers) : null;

    /// <summary>For a <c>subscriptions/listen</c> stream: the notifications its client asked for.</summary>
    public ListenFilter? Listening { get; init; }

    /// <summary>The log level a 2026-07-28 request asks for: none unless it names one.</summary>
    public const int NoLogs = 8;

    /// <summary>Set once the client sent <c>notifications/initialized</c>.</summary>
    public bool Initialized { get; set; }

    /// <summary>The minimum severity of log messages the client wants (<see cref="LogLevels"/>), or unset.</summary>
    public int LogLevel
    {
        get => _logLevel;
        set => _logLevel = value;
    }

    public CancellationToken Closed
    {
        get
        {
            var source = Volatile.Read(ref _closed) ?? Interlocked.CompareExchange(ref _closed, new CancellationTokenSource(), null) ?? _closed!;
            if (_isClosed)
            {
                // Closed while the source was being made: it must not miss the cancel.
                source.Cancel();
            }

            return source.Token;
        }
    }

    public bool IsClosed => _isClosed;

    // Calls in flight, by the client's request id: where a notifications/cancelled goes. Most clients have one
    // call at a time per session, so the first lives in a lock-free slot; more spill into a dictionary.
    private RelayCall? _inFlight;
    private ConcurrentDictionary<RequestKey, RelayCall>? _moreInFlight;

    public void AddInFlight(RelayCall call)
    {
        if (Interlocked.CompareExchange(ref _inFlight, call, null) is not null)
        {
            var more = Volatile.Read(ref _moreInFlight)
                ?? Interlocked.CompareExchange(ref _moreInFlight, new ConcurrentDictionary<RequestKey, RelayCall>(), null)
                ?? _moreInFlight!;
            more[call.Key] = call;
        }
    }

    public void RemoveInFlight(RelayCall call)
    {
        if (Interlocked.CompareExchange(ref _inFlight, null, call) != call)
        {
            _moreInFlight?.TryRemove(new KeyValuePair<RequestKey, RelayCall>(call.Key, call));
        }
    }

    /// <summary>Finds the call with this client id, and the generation it had (to cancel exactly that call).</summary>
    public bool TryFindInFlight(RequestKey key, out RelayCall? call, out int generation)
    {
        call = Volatile.Read(ref _inFlight);
        if (call is not null)
        {
            // Generation first: if the key still matches afterwards, that generation was this request's.
            generation = call.Generation;
            if (call.Key == key)
            {
                return true;
            }
        }

        call = null;
        generation = 0;
        if (_moreInFlight?.TryGetValue(key, out call) == true)
        {
            generation = call!.Generation;
            return call.Key == key;
        }

        return false;
    }

    private SessionReplay? _replay;

    /// <summary>Bytes of SSE events kept for resumption (<c>limits.replay_buffer_bytes</c>).</summary>
    public long ReplayBudget { get; init; } = LimitSettingsDefaults.ReplayBufferBytes;

    /// <summary>The recent events of this session's streams, for <c>Last-Event-ID</c> resumption (created on first use).</summary>
    public SessionReplay Replay => Volatile.Read(ref _replay) ?? Interlocked.CompareExchange(ref _replay, new SessionReplay(ReplayBudget), null) ?? _replay!;

    /// <summary>Whether this client takes SSE priming events (an id with empty data), new in 2025-11-25.</summary>
    public bool TakesPrimingEvents => Protocol.Mcp.ProtocolVersions.IsAtLeast(ProtocolVersion, Protocol.Mcp.ProtocolVersions.V20251125);

    /// <summary>Server-to-client requests sent to this client, by the id the gateway gave them.</summary>
    public ConcurrentDictionary<long, PendingServerRequest> ServerRequests
        => Volatile.Read(ref _serverRequests) ?? Interlocked.CompareExchange(ref _serverRequests, new(), null) ?? _serverRequests!;

    public ChannelReader<byte[]> Outbound => OutboundChannel.Reader;

    private Channel<byte[]> OutboundChannel
        => Volatile.Read(ref _outbound) ?? Interlocked.CompareExchange(ref _outbound, Channel.CreateBounded<byte[]>(s_outboundOptions), null) ?? _outbound!;

    public void Touch() => Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());

    public TimeSpan IdleFor() => Volatile.Read(ref _getStream) is not null ? TimeSpan.Zero : _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));

    public long NextServerRequestId() => Interlocked.Increment(ref _nextServerRequestId);

    /// <summary>Whether a log message of this severity passes the client's <c>logging/setLevel</c>.</summary>
    public bool WantsLog(int severity) => severity >= _logLevel;

    /// <summary>Queues a message for the GET stream (dropped if the session has ended).</summary>
    public void Post(byte[] message)
    {
        if (!IsClosed)
        {
            OutboundChannel.Writer.TryWrite(message);
        }
    }

    /// <summary>
    /// Opens the GET stream. A second one is refused, unless it resumes the stream (<paramref name="takeOver"/>): a
    /// client that reconnects after a network drop often does so before the gateway noticed the old connection died,
    /// so the new one replaces it.
    /// </summary>
    public bool TryOpenStream(bool takeOver, out int generation, out CancellationToken streamToken)
    {
        lock (_ownLock)
        {
            if (_getStream is not null && !takeOver)
            {
                generation = 0;
                streamToken = default;
                return false;
            }

            _getStream?.Cancel();
            _getStream = new CancellationTokenSource();
            generation = ++_getStreamGeneration;
            streamToken = _getStream.Token;
            return true;
        }
    }

    public void CloseStream(int generation)
    {
        lock (_ownLock)
        {
            if (generation == _getStreamGeneration && _getStream is { } current)
            {
                current.Dispose();
                _getStream = null;
            }
        }

        Touch();
    }

    // Upstream sessions of servers with sharing: per_session, started on first use and stopped with this session.
    private readonly Lock _ownLock = new();
    private Dictionary<UpstreamServer, UpstreamReplica>? _ownUpstreams;

    /// <summary>
    /// The upstream session to use for <paramref name="server"/>: the shared one, or (<c>sharing: per_session</c>)
    /// this session's own, opened on first use.
    /// </summary>
    public ValueTask<(UpstreamSession? Session, UpstreamError Error)> UpstreamFor(UpstreamServer server, CancellationToken cancellationToken)
    {
        if (server.Model.Sharing == ServerSharing.Shared)
        {
            return server.GetSessionAsync(Caller, cancellationToken);
        }

        UpstreamReplica replica;
        lock (_ownLock)
        {
            if (IsClosed)
            {
                return ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((null, UpstreamError.Unavailable("the session has ended")));
            }

            _ownUpstreams ??= [];
            if (!_ownUpstreams.TryGetValue(server, out replica!))
            {
                var (model, error) = server.ModelFor(Caller);
                if (model is null)
                {
                    return ValueTask.FromResult<(UpstreamSession?, UpstreamError)>((null, error));
                }

                replica = server.CreatePrivateReplica(this, Capabilities.Roots, model);
                _ownUpstreams[server] = replica;
            }
        }

        return replica.GetSessionAsync(cancellationToken);
    }

    /// <summary>This session's own upstream sessions that are running (for roots/list_changed).</summary>
    public List<UpstreamSession> OwnUpstreamSessions()
    {
        var result = new List<UpstreamSession>();
        lock (_ownLock)
        {
            foreach (var (_, replica) in _ownUpstreams ?? [])
            {
                if (replica.CurrentSession is { } live)
                {
                    result.Add(live);
                }
            }
        }

        return result;
    }

    /// <summary>Ends the session: the GET stream closes, calls in flight are cancelled, its own upstream sessions stop.</summary>
    public void Close()
    {
        Dictionary<UpstreamServer, UpstreamReplica>? own;
        lock (_ownLock)
        {
            own = _ownUpstreams;
            _ownUpstreams = null;
        }

        foreach (var (_, replica) in own ?? [])
        {
            _ = replica.DisposeAsync().AsTask();
        }

        Volatile.Read(ref _outbound)?.Writer.TryComplete();
        try
        {
            _isClosed = true;
            Volatile.Read(ref _closed)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        Volatile.Read(ref _inFlight)?.CancelBySession();
        foreach (var (_, call) in _moreInFlight ?? [])
        {
            call.CancelBySession();
        }
    }
}

/// <summary>The list changes a 2026-07-28 <c>subscriptions/listen</c> stream asked for (resource updates go to its subscriptions).</summary>
internal sealed record ListenFilter(bool Tools, bool Prompts, bool Resources, byte[] SubscriptionId);

/// <summary>A server-to-client request relayed to a client, waiting for its answer.</summary>
/// <remarks><see cref="Call"/> is null for a request that came outside of any call (roots of a per-session upstream).</remarks>
/// <param name="Upstream">Where the answer goes; null for the gateway's own requests (then <see cref="Local"/> takes it).</param>
internal sealed record PendingServerRequest(UpstreamSession? Upstream, byte[] UpstreamId, RelayCall? Call)
{
    /// <summary>
    /// Set when the request is the gateway's own — a translation of a 2026-07-28 server's input request, or a policy's
    /// approval question: the client's answer (its whole response message) completes this instead of going upstream.
    /// </summary>
    public TaskCompletionSource<byte[]>? Local { get; init; }
}
