using System.Collections.Concurrent;
using System.Threading.Channels;
using Archestra.Edge.Gateway.Relay;
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
    private readonly Channel<byte[]> _outbound = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(OutboundCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly CancellationTokenSource _closed = new();
    private long _lastActivity;
    private long _nextServerRequestId;
    private int _getStreamOpen;
    private volatile int _logLevel = LogLevels.Unset;

    public DownstreamSession(string id, ProfileRuntime profile, string protocolVersion, ClientCapabilities capabilities, string? clientName, string? clientVersion, TimeProvider timeProvider)
    {
        Id = id;
        Profile = profile;
        ProtocolVersion = protocolVersion;
        Capabilities = capabilities;
        ClientName = clientName;
        ClientVersion = clientVersion;
        _timeProvider = timeProvider;
        _lastActivity = timeProvider.GetTimestamp();
    }

    public string Id { get; }

    public string SessionId => Id;

    public ProfileRuntime Profile { get; }

    public string ProfileName => Profile.Name;

    public string ProtocolVersion { get; }

    public ClientCapabilities Capabilities { get; }

    public string? ClientName { get; }

    public string? ClientVersion { get; }

    public string Principal => "anonymous";

    /// <summary>Set once the client sent <c>notifications/initialized</c>.</summary>
    public bool Initialized { get; set; }

    /// <summary>The minimum severity of log messages the client wants (<see cref="LogLevels"/>), or unset.</summary>
    public int LogLevel
    {
        get => _logLevel;
        set => _logLevel = value;
    }

    public CancellationToken Closed => _closed.Token;

    public bool IsClosed => _closed.IsCancellationRequested;

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

    /// <summary>Server-to-client requests sent to this client, by the id the gateway gave them.</summary>
    public ConcurrentDictionary<long, PendingServerRequest> ServerRequests { get; } = new();

    public ChannelReader<byte[]> Outbound => _outbound.Reader;

    public void Touch() => Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());

    public TimeSpan IdleFor() => _getStreamOpen != 0 ? TimeSpan.Zero : _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));

    public long NextServerRequestId() => Interlocked.Increment(ref _nextServerRequestId);

    /// <summary>Whether a log message of this severity passes the client's <c>logging/setLevel</c>.</summary>
    public bool WantsLog(int severity) => severity >= _logLevel;

    /// <summary>Queues a message for the GET stream (dropped if the session has ended).</summary>
    public void Post(byte[] message)
    {
        if (!IsClosed)
        {
            _outbound.Writer.TryWrite(message);
        }
    }

    public bool TryOpenStream() => Interlocked.CompareExchange(ref _getStreamOpen, 1, 0) == 0;

    public void CloseStream()
    {
        Volatile.Write(ref _getStreamOpen, 0);
        Touch();
    }

    /// <summary>Ends the session: the GET stream closes, calls in flight are cancelled.</summary>
    public void Close()
    {
        _outbound.Writer.TryComplete();
        try
        {
            _closed.Cancel();
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

/// <summary>A server-to-client request relayed to a client, waiting for its answer.</summary>
internal sealed record PendingServerRequest(UpstreamSession Upstream, byte[] UpstreamId, RelayCall Call);
