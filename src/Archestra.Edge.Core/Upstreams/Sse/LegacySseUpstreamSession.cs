using System.IO.Pipelines;
using System.Net;
using System.Text;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Upstreams.Streams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Sse;

/// <summary>
/// A server on the legacy HTTP+SSE transport (MCP 2024-11-05): a GET opens an event stream whose first event,
/// <c>endpoint</c>, names the URL to POST messages to; every POST is only acknowledged (202), and all answers come
/// back as <c>message</c> events on the one stream. The stream is the session: when it ends, so does the session,
/// and the next call opens a new one.
/// </summary>
internal sealed partial class LegacySseUpstreamSession : MessageStreamSession
{
    private readonly HttpMessageInvoker _invoker;
    private readonly RemoteServerModel _model;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<Uri> _endpoint = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private volatile bool _alive = true;
    private int _closed;

    private LegacySseUpstreamSession(string serverName, HttpMessageInvoker invoker, RemoteServerModel model, IUpstreamListener listener, ILogger logger)
        : base(serverName, listener, logger)
    {
        _invoker = invoker;
        _model = model;
    }

    public override bool IsAlive => _alive;

    public override string? Identity => _endpoint.Task.IsCompletedSuccessfully ? _endpoint.Task.Result.PathAndQuery : null;

    protected override string EndedReason => "the server's event stream has ended";

    /// <summary>Opens the event stream, waits for the endpoint, then runs the MCP handshake over it.</summary>
    public static async Task<(LegacySseUpstreamSession? Session, UpstreamError Error)> ConnectAsync(
        ServerModel server, HttpMessageInvoker invoker, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken)
    {
        var session = new LegacySseUpstreamSession(server.Name, invoker, server.Remote!, listener, logger);
        UpstreamError opened, error;
        try
        {
            opened = await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
            error = opened.IsError ? opened : await session.InitializeAsync(listener.InitializeParameters, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // start_timeout while connecting: the event stream must not stay open behind the abandoned attempt.
            _ = session.DisposeAsync().AsTask();
            throw;
        }

        if (opened.IsError)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            return (null, opened);
        }

        if (error.IsError)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            return (null, error.Kind == UpstreamErrorKind.SessionExpired ? UpstreamError.Unavailable(error.Message) : error);
        }

        return (session, UpstreamError.None);
    }

    private async Task<UpstreamError> OpenStreamAsync(CancellationToken cancellationToken)
    {
        var request = CreateRequest(HttpMethod.Get, _model.Url);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        HttpResponseMessage response;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            response = await _invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            request.Dispose();
            return UpstreamError.Unavailable($"cannot reach {_model.Url}: {ex.Message}");
        }

        request.Dispose();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!response.IsSuccessStatusCode || !string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            return UpstreamError.Unavailable(response.IsSuccessStatusCode
                ? $"the server answered the event stream request with '{mediaType ?? "no content type"}', not text/event-stream (is it a streamable_http server?)"
                : $"the server answered the event stream request with HTTP {status}");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        _readLoop = Task.Run(() => ReadLoopAsync(response, stream), CancellationToken.None);
        try
        {
            await _endpoint.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return UpstreamError.None;
        }
        catch (InvalidOperationException ex)
        {
            return UpstreamError.Unavailable(ex.Message);
        }
    }

    private async Task ReadLoopAsync(HttpResponseMessage response, Stream stream)
    {
        var reason = UpstreamError.Failed(EndedReason);
        var reader = PipeReader.Create(stream);
        using var parser = new SseParser();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (parser.TryReadEvent(ref buffer, out var sseEvent))
                {
                    OnEvent(sseEvent);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            reason = UpstreamError.Failed($"the server's event stream broke: {ex.Message}");
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            reason = UpstreamError.None; // disposed by the gateway
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            response.Dispose();
        }

        _endpoint.TrySetException(new InvalidOperationException("the event stream ended before it named the endpoint to post messages to"));
        Close(reason);
    }

    private void OnEvent(SseEvent sseEvent)
    {
        if (sseEvent.EventType.Span.SequenceEqual("endpoint"u8))
        {
            var text = Encoding.UTF8.GetString(sseEvent.Data.Span).Trim();
            if (Uri.TryCreate(_model.Url, text, out var endpoint) && endpoint.Scheme == _model.Url.Scheme && endpoint.Authority == _model.Url.Authority)
            {
                _endpoint.TrySetResult(endpoint);
            }
            else
            {
                // Posting to another origin would send the configured credentials elsewhere.
                _endpoint.TrySetException(new InvalidOperationException($"the server named an endpoint on another origin or an invalid one: '{text}'"));
            }

            return;
        }

        if (sseEvent.IsMessage && !sseEvent.Data.IsEmpty)
        {
            Route(UpstreamMessage.Copy(sseEvent.Data.Span));
        }
    }

    protected override async ValueTask<UpstreamError> TransmitAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!_alive)
        {
            return UpstreamError.Expired(EndedReason);
        }

        using var request = CreateRequest(HttpMethod.Post, await _endpoint.Task.ConfigureAwait(false));
        var content = new ReadOnlyMemoryContent(message);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Content = content;
        try
        {
            using var response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return UpstreamError.None;
            }

            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                // The server forgot the session behind the endpoint: this one is over.
                Close(UpstreamError.Expired($"the server ended the session (HTTP {(int)response.StatusCode})"));
                return UpstreamError.Expired($"the server ended the session (HTTP {(int)response.StatusCode})");
            }

            return UpstreamError.Failed($"the server answered HTTP {(int)response.StatusCode} to a posted message");
        }
        catch (HttpRequestException ex)
        {
            return UpstreamError.Unavailable($"cannot reach {_model.Url}: {ex.Message}");
        }
    }

    private readonly Utilities.LogBudget _garbageLog = new(TimeProvider.System, 10);

    protected override void OnGarbage(ReadOnlySpan<byte> bytes)
    {
        if (_garbageLog.TryTake())
        {
            Log.Garbage(Logger, ServerName, Preview(bytes));
        }
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url) { Version = HttpVersion.Version11 };
        foreach (var (name, value) in _model.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private void Close(UpstreamError reason)
    {
        _alive = false;
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            FailAll(reason);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _alive = false;
        if (!_lifetime.IsCancellationRequested)
        {
            await _lifetime.CancelAsync().ConfigureAwait(false);
        }

        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Close(UpstreamError.None);
        _lifetime.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.UpstreamProtocolViolation, LogLevel.Warning, "Upstream '{Server}' sent an event that is not JSON-RPC: {Preview}")]
        public static partial void Garbage(ILogger logger, string server, string preview);
    }
}
