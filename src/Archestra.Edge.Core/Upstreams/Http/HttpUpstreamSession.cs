using System.Net;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Http;

/// <summary>
/// A Streamable HTTP session with a remote MCP server: every message is a POST, answered with JSON or an SSE
/// stream; the server's own <c>Mcp-Session-Id</c> and protocol version travel on every request, and a GET
/// stream (when the server offers one) carries what it sends outside of requests.
/// </summary>
internal sealed partial class HttpUpstreamSession : UpstreamSession
{
    private const string AcceptBoth = "application/json, text/event-stream";

    private readonly HttpMessageInvoker _invoker;
    private readonly RemoteServerModel _model;
    private readonly IUpstreamListener _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, ICallerContext> _callsInFlight = new();
    private readonly Func<string, CancellationToken, Task<(HttpResponseMessage? Response, string? Error)>> _resumeStream;
    private volatile bool _getStreamOpen;
    private string? _sessionId;
    private string? _protocolVersion;
    private volatile bool _alive = true;
    private Task? _listenTask;

    private HttpUpstreamSession(string serverName, HttpMessageInvoker invoker, RemoteServerModel model, IUpstreamListener listener, ILogger logger)
        : base(serverName)
    {
        _invoker = invoker;
        _model = model;
        _listener = listener;
        _logger = logger;
        _resumeStream = ResumeStreamAsync;
    }

    public override bool IsAlive => _alive;

    public override string? Identity => _identity ?? _sessionId;

    private string? _identity;
    private Func<Task>? _onDisposed;

    /// <summary>The OAuth connection's access token goes in <c>Authorization</c> (null: the server needs none).</summary>
    private OAuth.ConnectionBearer? _bearer;

    /// <summary>
    /// Opens a session: initialize handshake, then the listening GET stream in the background. A container's
    /// session names the container (<paramref name="identity"/>) and removes it when disposed (<paramref name="onDisposed"/>).
    /// </summary>
    public static async Task<(HttpUpstreamSession? Session, UpstreamError Error)> ConnectAsync(
        string serverName, RemoteServerModel remote, HttpMessageInvoker invoker, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken,
        string? identity = null, Func<Task>? onDisposed = null, OAuth.ConnectionBearer? bearer = null)
    {
        // A container's session removes the container when disposed, a failed or abandoned start included.
        var session = new HttpUpstreamSession(serverName, invoker, remote, listener, logger) { _identity = identity, _onDisposed = onDisposed, _bearer = bearer };
        UpstreamError error;
        try
        {
            error = await session.OpenAsync(listener, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // start_timeout while initializing: the session (and a container behind it) is ended in the background.
            _ = session.DisposeAsync().AsTask();
            throw;
        }

        if (error.IsError)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            return (null, error.Kind == UpstreamErrorKind.SessionExpired ? UpstreamError.Unavailable(error.Message) : error);
        }

        // Before the first call: the listener may take a moment to start. A 2026-07-28 server sends nothing unlinked.
        session._getStreamOpen = !session.SpeaksModern;
        session._listenTask = Task.Run(session.ListenAsync, CancellationToken.None);
        if (!session.SpeaksModern)
        {
            // A server may send requests that belong to no call's stream (elicitation without a related request, say)
            // only on a GET stream, dropping them while there is none: the first call waits until the server has
            // answered the GET (any answer), for at most a second.
            await Task.WhenAny(session._listenAnswering.Task, Task.Delay(s_listenWait, cancellationToken)).ConfigureAwait(false);
        }

        return (session, UpstreamError.None);
    }

    public override async ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(
        long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
    {
        // A client's call is in flight from the POST until its answer is complete: while it is, a request the server
        // sends on its GET stream may be for it (see SoleCaller). A server without an open GET stream sends nothing
        // unlinked, so its calls cost nothing here.
        var tracked = caller is not null && _getStreamOpen && _callsInFlight.TryAdd(id, caller);
        var handedOver = false;
        using var modern = SpeaksModern ? Modernize(message, caller) : null;
        try
        {
            var (response, error) = await PostAsync(modern?.Message ?? message, cancellationToken, modern).ConfigureAwait(false);
            if (response is null)
            {
                return (null, error);
            }

            if (_sessionId is null && response.Headers.TryGetValues(McpHeaders.SessionId, out var ids))
            {
                // Assigned on the initialize response (the first request of the session).
                _sessionId = ids.FirstOrDefault();
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                handedOver = tracked;
                return (new SseReply(response, stream, tracked ? () => _callsInFlight.TryRemove(id, out _) : null, _resumeStream), UpstreamError.None);
            }

            if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            {
                return (await JsonReply.ReadAsync(response, cancellationToken).ConfigureAwait(false), UpstreamError.None);
            }

            response.Dispose();
            return (null, UpstreamError.Failed(response.StatusCode == HttpStatusCode.Accepted
                ? "the server accepted a request without answering it (HTTP 202)"
                : $"the server answered with content type '{mediaType ?? "none"}', not JSON or an event stream"));
        }
        finally
        {
            if (tracked && !handedOver)
            {
                _callsInFlight.TryRemove(id, out _);
            }
        }
    }

    /// <summary>
    /// SEP-1699: re-opens a request's event stream the server closed before answering, with GET and
    /// <c>Last-Event-ID</c>. The response, or why there is none (the server's status, or the failure).
    /// </summary>
    private async Task<(HttpResponseMessage? Response, string? Error)> ResumeStreamAsync(string lastEventId, CancellationToken cancellationToken)
    {
        using var request = CreateStreamRequest(lastEventId);
        try
        {
            var response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode && string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                return (response, null);
            }

            response.Dispose();
            return (null, $"HTTP {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.Message);
        }
    }

    public override ICallerContext? SoleCaller
    {
        get
        {
            ICallerContext? sole = null;
            foreach (var (_, caller) in _callsInFlight)
            {
                if (sole is not null && !ReferenceEquals(sole, caller))
                {
                    return null;
                }

                sole = caller;
            }

            return sole;
        }
    }

    public override async ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (SpeaksModern)
        {
            // 2026-07-28 has no notifications or responses from the client: a cancel is the closed response stream.
            return UpstreamError.None;
        }

        var (response, error) = await PostAsync(message, cancellationToken).ConfigureAwait(false);
        response?.Dispose();
        return error;
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_alive && _lifetime.IsCancellationRequested)
        {
            return;
        }

        _alive = false;
        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (_listenTask is not null)
        {
            await _listenTask.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_sessionId is not null)
        {
            // Best effort: tell the server the session is over (it may answer 405).
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var request = CreateRequest(HttpMethod.Delete);
                using var response = await _invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // The server is gone already; nothing to clean up.
            }
        }

        _lifetime.Dispose();
        if (_onDisposed is { } onDisposed)
        {
            await onDisposed().ConfigureAwait(false);
        }

        _listener.OnClosed(this, UpstreamError.None);
    }

    protected override void OnInitialized(string protocolVersion) => _protocolVersion = protocolVersion;

    private async ValueTask<(HttpResponseMessage? Response, UpstreamError Error)> PostAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken, ModernRequest? modern = null)
    {
        if (!_alive)
        {
            return (null, UpstreamError.Expired("the upstream session has ended"));
        }

        if (_bearer is not null && await _bearer.EnsureAsync(rejected: null, cancellationToken).ConfigureAwait(false) is { IsError: true } noToken)
        {
            return (null, noToken);
        }

        HttpResponseMessage response;
        for (var attempt = 0; ; attempt++)
        {
            using var request = CreateRequest(HttpMethod.Post);
            request.Headers.TryAddWithoutValidation("Accept", AcceptBoth);
            modern?.AddHeaders(request.Headers);
            var content = new ReadOnlyMemoryContent(message);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Content = content;
            try
            {
                response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                return (null, UpstreamError.Unavailable($"cannot reach {_model.Url}: {ex.Message}"));
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized || _bearer is null || attempt > 0)
            {
                break;
            }

            // The server refused the connection's token (revoked, expired early): refreshed once, and sent again.
            var refused = _bearer.Current;
            response.Dispose();
            if (await _bearer.EnsureAsync(refused, cancellationToken).ConfigureAwait(false) is { IsError: true } refreshFailed)
            {
                return (null, refreshFailed);
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return (response, UpstreamError.None);
        }

        if (response.StatusCode == HttpStatusCode.Forbidden && _bearer is not null
            && OAuth.Challenge.Parse(response.Headers.WwwAuthenticate) is { Error: "insufficient_scope" } challenge)
        {
            // Step-up: the token is good but too narrow for this request; only its owner can grant more.
            response.Dispose();
            return (null, _bearer.StepUp(challenge.Scope));
        }

        if (modern is not null && (int)response.StatusCode is >= 400 and < 500
            && response.Content.Headers.ContentType?.MediaType is { } type
            && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase)))
        {
            // A 2026-07-28 server answers protocol errors (-32020, -32021, -32022, -32601) with a 4xx and a JSON-RPC error: that is its reply.
            return (response, UpstreamError.None);
        }

        var status = (int)response.StatusCode;
        var detail = await ReadSnippetAsync(response, cancellationToken).ConfigureAwait(false);
        response.Dispose();
        if (response.StatusCode == HttpStatusCode.NotFound && _sessionId is not null)
        {
            MarkEnded(UpstreamError.Expired("the server ended the session (HTTP 404)"));
            return (null, UpstreamError.Expired("the server ended the session (HTTP 404)"));
        }

        return (null, UpstreamError.Failed($"the server answered HTTP {status}{detail}"));
    }

    /// <summary>A GET for an event stream: the session's standalone one, or (with an event id) one resumed from there.</summary>
    private HttpRequestMessage CreateStreamRequest(string? lastEventId)
    {
        var request = CreateRequest(HttpMethod.Get);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation(McpHeaders.LastEventId, lastEventId);
        }

        return request;
    }

    private HttpRequestMessage CreateRequest(HttpMethod method)
    {
        var request = new HttpRequestMessage(method, _model.Url) { Version = HttpVersion.Version11 };
        var headers = request.Headers;
        if (_sessionId is not null)
        {
            headers.TryAddWithoutValidation(McpHeaders.SessionId, _sessionId);
        }

        if (_protocolVersion is not null)
        {
            headers.TryAddWithoutValidation(McpHeaders.ProtocolVersion, _protocolVersion);
        }

        foreach (var (name, value) in _model.Headers)
        {
            headers.TryAddWithoutValidation(name, value);
        }

        if (_bearer?.Current is { } token)
        {
            headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>Ends the session from outside (its container exited): callers get <paramref name="reason"/>, the next call a new session.</summary>
    public void End(UpstreamError reason) => MarkEnded(reason);

    private void MarkEnded(UpstreamError reason)
    {
        if (_alive)
        {
            _alive = false;
            _listener.OnClosed(this, reason);
        }
    }

    // An error body is read for its first few hundred characters only: the rest is never buffered (a server may send
    // an endless or huge body), and the connection is dropped with the response.
    internal const int SnippetBytes = 1024;

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(SnippetBytes);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var length = 0;
            while (length < SnippetBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length, SnippetBytes - length), timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, length).Trim();
            if (text.Length == 0)
            {
                return string.Empty;
            }

            return ": " + (text.Length > 300 ? text[..300] + "…" : text);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return string.Empty;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
