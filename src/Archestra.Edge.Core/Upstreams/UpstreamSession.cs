using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// An initialized MCP session with one upstream server (one child process, one HTTP session, or an embedded
/// server). Request ids on it are the gateway's own, unique per session, so any number of downstream
/// sessions can share it.
/// </summary>
internal abstract class UpstreamSession : IAsyncDisposable
{
    private long _nextRequestId;

    protected UpstreamSession(string serverName)
    {
        ServerName = serverName;
    }

    public string ServerName { get; }

    public UpstreamInfo Info { get; protected set; } = UpstreamInfo.Empty;

    /// <summary>Whether the server is spoken to in 2026-07-28 (stateless: everything in each request's <c>_meta</c>).</summary>
    public bool IsModern => ReferenceEquals(Info.ProtocolVersion, ProtocolVersions.V20260728);

    /// <summary>False once the session ended; a new one must be opened.</summary>
    public abstract bool IsAlive { get; }

    /// <summary>A process id, a container id or an HTTP session id, for status output.</summary>
    public virtual string? Identity => null;

    /// <summary>
    /// The one client every call in flight on this session is for, if there is exactly one such client: a request the
    /// server sends outside of any call's stream (on its GET stream) can then only be for that client. Null when no
    /// call is in flight, when calls of several clients are, or when the transport attributes messages itself.
    /// </summary>
    public virtual ICallerContext? SoleCaller => null;

    /// <summary>The last lines the server wrote to stderr (stdio transports), for status; null when it has none.</summary>
    public virtual Supervision.Processes.StderrTail? Stderr => null;

    public long NextRequestId() => Interlocked.Increment(ref _nextRequestId);

    private int _loggingLevel = -1;

    /// <summary>
    /// Records that the gateway asks this server for logs of <paramref name="level"/> (an RFC 5424 rank, 0 = debug) and
    /// above. True when that is more verbose than what was asked so far, so <c>logging/setLevel</c> must be sent; a
    /// level is never made less verbose while the session lives (some client of it may still want it).
    /// </summary>
    public bool TryLowerLoggingLevel(int level)
    {
        while (true)
        {
            var current = Volatile.Read(ref _loggingLevel);
            if (current != -1 && current <= level)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _loggingLevel, level, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Sends a request whose id is <paramref name="id"/> (from <see cref="NextRequestId"/>) and returns its reply stream.
    /// <paramref name="message"/> must stay valid until the returned task completes.
    /// </summary>
    public abstract ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(
        long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken);

    /// <summary>Sends a notification, or a response to a server-to-client request.</summary>
    public abstract ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Sends a request the gateway itself makes (not a relayed one) and waits for its response, ignoring
    /// anything else the server sends meanwhile. The caller disposes the returned message.
    /// </summary>
    public async Task<(UpstreamMessage? Response, UpstreamError Error)> RequestAsync(
        ReadOnlyMemory<byte> method, ReadOnlyMemory<byte> parameters, CancellationToken cancellationToken)
    {
        using var request = new PooledBufferWriter();
        var id = NextRequestId();
        JsonRpcWriter.WriteRequest(request, id, method.Span, parameters.Span);
        var (reply, error) = await SendRequestAsync(id, request.WrittenMemory, caller: null, cancellationToken).ConfigureAwait(false);
        if (reply is null)
        {
            return (null, error);
        }

        await using (reply.ConfigureAwait(false))
        {
            while (true)
            {
                var message = await reply.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (message is null)
                {
                    return (null, reply.Error.IsError ? reply.Error : UpstreamError.Failed("the server ended the exchange without an answer"));
                }

                if (message.Envelope.IsResponse)
                {
                    return (message, UpstreamError.None);
                }

                message.Dispose(); // a log line or progress during a gateway request; nobody to relay it to
            }
        }
    }

    private const string LegacyEra = "2025";
    private static readonly byte[] s_discover = "server/discover"u8.ToArray();

    /// <summary>How long a server may take to answer <c>server/discover</c> before it is taken for a 2025 server (as the SDKs do).</summary>
    internal static readonly TimeSpan DiscoverProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// While true, requests are sent the 2026-07-28 way (the transport completes their <c>_meta</c> and headers): during the
    /// <c>server/discover</c> probe, and for good once the server turned out to speak that revision.
    /// </summary>
    protected bool SpeaksModern { get; private set; }

    /// <summary>
    /// Opens the session the way the server speaks: <c>server/discover</c> first unless the server is known to be of the
    /// 2025 era, then <c>initialize</c> if it is not of 2026-07-28. The era found is remembered for the next session.
    /// </summary>
    protected async Task<UpstreamError> OpenAsync(IUpstreamListener listener, CancellationToken cancellationToken)
    {
        if (listener.KnownEra != LegacyEra)
        {
            SetModern(true);
            UpstreamMessage? response = null;
            var error = UpstreamError.None;
            using (var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                probe.CancelAfter(DiscoverProbeTimeout);
                try
                {
                    (response, error) = await RequestAsync(s_discover, "{}"u8.ToArray(), probe.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // No answer in time: a 2025 server that ignores what it does not know before initialize.
                }
            }

            using (response)
            {
                if (response is null && error.IsError && (error.Kind == UpstreamErrorKind.Unavailable || !IsAlive))
                {
                    // Not reachable at all, or the process died on the question: nothing to learn about its era, and the
                    // error (exit code, stderr) is the one to report.
                    SetModern(false);
                    return error;
                }

                if (response is { Envelope.Kind: JsonRpcMessageKind.Response } && ParseDiscoverResult(response.Envelope.Result.Slice(response.Span)) is { } info)
                {
                    Info = info;
                    listener.KnownEra = ProtocolVersions.V20260728;
                    return UpstreamError.None;
                }
            }

            SetModern(false);
        }

        var initialized = await InitializeAsync(listener.InitializeParameters, cancellationToken).ConfigureAwait(false);
        if (!initialized.IsError)
        {
            listener.KnownEra = LegacyEra;
        }

        return initialized;
    }

    private void SetModern(bool modern)
    {
        SpeaksModern = modern;
        OnEraChosen(modern);
    }

    /// <summary>Called when requests start or stop being sent the 2026-07-28 way.</summary>
    protected virtual void OnEraChosen(bool modern)
    {
    }

    /// <summary>
    /// A request the 2026-07-28 way that lacks its <c>_meta</c> (the gateway's own, or a 2025 client's): written to
    /// <paramref name="output"/> with the <c>_meta</c> that stands for its caller (or the gateway) spliced in.
    /// </summary>
    protected static void CompleteModernMeta(ReadOnlySpan<byte> message, in JsonRpcEnvelope envelope, ICallerContext? caller, IBufferWriter<byte> output)
    {
        var members = caller?.ModernMeta ?? ModernMeta.Gateway;
        ModernMeta.Splice(message, envelope, members.IsEmpty ? ModernMeta.Gateway : members.Span, output);
    }

    /// <summary>Runs the MCP handshake: <c>initialize</c>, then <c>notifications/initialized</c>.</summary>
    protected async Task<UpstreamError> InitializeAsync(ReadOnlyMemory<byte> parameters, CancellationToken cancellationToken)
    {
        var (response, error) = await RequestAsync(s_initializeMethod, parameters, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return error;
        }

        using (response)
        {
            var envelope = response.Envelope;
            if (envelope.Kind == JsonRpcMessageKind.ErrorResponse)
            {
                return UpstreamError.Unavailable($"initialize was refused: {DescribeError(response.Span, envelope.ErrorObject)}");
            }

            var info = ParseInitializeResult(envelope.Result.Slice(response.Span), out var parseError);
            if (info is null)
            {
                return UpstreamError.Unavailable(parseError!);
            }

            Info = info;
        }

        OnInitialized(Info.ProtocolVersion);
        using var initialized = new PooledBufferWriter();
        JsonRpcWriter.WriteNotification(initialized, "notifications/initialized"u8, default);
        return await SendAsync(initialized.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called once the protocol version is known, before <c>notifications/initialized</c> is sent.</summary>
    protected virtual void OnInitialized(string protocolVersion)
    {
    }

    internal static string DescribeError(ReadOnlySpan<byte> message, JsonRange error)
    {
        try
        {
            using var document = JsonDocument.Parse(error.Slice(message).ToArray());
            var root = document.RootElement;
            var code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 0;
            var text = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : "(no message)";
            return $"{text} ({code})";
        }
        catch (JsonException)
        {
            return "(unreadable error)";
        }
    }

    /// <summary>
    /// What a <c>server/discover</c> result says, when it lists 2026-07-28 among its versions: the server is then spoken
    /// to statelessly. Null when it does not (the caller falls back to <c>initialize</c>).
    /// </summary>
    protected static UpstreamInfo? ParseDiscoverResult(ReadOnlySpan<byte> result)
    {
        try
        {
            using var document = JsonDocument.Parse(result.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("supportedVersions", out var versions) || versions.ValueKind != JsonValueKind.Array
                || !versions.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.String && v.ValueEquals(ProtocolVersions.V20260728)))
            {
                return null;
            }

            string? name = null, serverVersion = null;
            if (root.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("io.modelcontextprotocol/serverInfo", out var serverInfo) && serverInfo.ValueKind == JsonValueKind.Object)
            {
                name = serverInfo.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                serverVersion = serverInfo.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            }

            var capabilities = root.TryGetProperty("capabilities", out var caps) && caps.ValueKind == JsonValueKind.Object ? caps : default;
            return Describe(ProtocolVersions.V20260728, name, serverVersion, capabilities);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static UpstreamInfo Describe(string version, string? name, string? serverVersion, JsonElement capabilities) => new(
        version,
        name,
        serverVersion,
        Tools: Has(capabilities, "tools"),
        ToolsListChanged: Flag(capabilities, "tools", "listChanged"),
        Prompts: Has(capabilities, "prompts"),
        PromptsListChanged: Flag(capabilities, "prompts", "listChanged"),
        Resources: Has(capabilities, "resources"),
        ResourcesSubscribe: Flag(capabilities, "resources", "subscribe"),
        ResourcesListChanged: Flag(capabilities, "resources", "listChanged"),
        Logging: Has(capabilities, "logging"),
        Completions: Has(capabilities, "completions"));

    private static UpstreamInfo? ParseInitializeResult(ReadOnlySpan<byte> result, out string? error)
    {
        error = null;
        try
        {
            using var document = JsonDocument.Parse(result.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("protocolVersion", out var versionElement)
                || versionElement.ValueKind != JsonValueKind.String)
            {
                error = "the initialize result has no protocolVersion";
                return null;
            }

            var version = ProtocolVersions.MatchUpstream(versionElement.GetString());
            if (version is null)
            {
                error = $"the server speaks protocol version {versionElement.GetString()}, which this gateway does not";
                return null;
            }

            string? name = null, serverVersion = null;
            if (root.TryGetProperty("serverInfo", out var serverInfo) && serverInfo.ValueKind == JsonValueKind.Object)
            {
                name = serverInfo.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                serverVersion = serverInfo.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            }

            var capabilities = root.TryGetProperty("capabilities", out var caps) && caps.ValueKind == JsonValueKind.Object ? caps : default;
            return Describe(version, name, serverVersion, capabilities);
        }
        catch (JsonException ex)
        {
            error = $"the initialize result is not valid JSON: {ex.Message}";
            return null;
        }
    }

    private static bool Has(JsonElement capabilities, string name)
        => capabilities.ValueKind == JsonValueKind.Object && capabilities.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object;

    private static bool Flag(JsonElement capabilities, string name, string flag)
        => Has(capabilities, name) && capabilities.GetProperty(name).TryGetProperty(flag, out var value) && value.ValueKind == JsonValueKind.True;

    private static readonly byte[] s_initializeMethod = "initialize"u8.ToArray();

    /// <summary>
    /// The <c>initialize</c> params for a session shared by all clients: sampling and elicitation travel on the stream
    /// of the call that asks for them. Roots are per client, so a shared session does not claim them.
    /// </summary>
    public static readonly byte[] SharedInitializeParameters = InitializeParameters(roots: false);

    /// <summary>The <c>initialize</c> params; <paramref name="roots"/> for a session that belongs to one client that declared roots.</summary>
    public static byte[] InitializeParameters(bool roots) => System.Text.Encoding.UTF8.GetBytes(
        "{\"protocolVersion\":\"" + ProtocolVersions.Latest + "\","
        + "\"capabilities\":{\"sampling\":{},\"elicitation\":{\"form\":{},\"url\":{}}" + (roots ? ",\"roots\":{\"listChanged\":true}" : string.Empty) + "},"
        + "\"clientInfo\":{\"name\":\"" + BuildInfo.ProductName + "\",\"title\":\"" + BuildInfo.ProductTitle + "\",\"version\":\"" + BuildInfo.Version + "\"}}");
}
