using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Http;

internal sealed partial class HttpUpstreamSession
{
    private static readonly TimeSpan s_minimumReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maximumReconnectDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_listenWait = TimeSpan.FromSeconds(1);

    private volatile bool _listenAnswered;

    /// <summary>Completed when the server first answered the GET (with a stream or a refusal), or the listener ended.</summary>
    private readonly TaskCompletionSource _listenAnswering = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Holds the GET stream open for the session's lifetime, reconnecting (with <c>Last-Event-ID</c>) when the
    /// server closes it. A 405 means the server has no such stream; then only request streams are used.
    /// </summary>
    private async Task ListenAsync()
    {
        // While the stream is held (or being re-opened) the server may send on it; once it has none, nothing comes.
        try
        {
            await ListenLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            _getStreamOpen = false;
            _listenAnswering.TrySetResult();
        }
    }

    private async Task ListenLoopAsync()
    {
        var token = _lifetime.Token;
        var delay = s_minimumReconnectDelay;
        string? lastEventId = null;
        while (!token.IsCancellationRequested && _alive)
        {
            try
            {
                using var request = CreateListenRequest(lastEventId);

                using var response = await _invoker.SendAsync(request, token).ConfigureAwait(false);
                _listenAnswering.TrySetResult();
                if (response.StatusCode == HttpStatusCode.MethodNotAllowed
                    || (SpeaksModern && (!response.IsSuccessStatusCode || !string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))))
                {
                    // No such stream (a 2026-07-28 server without subscriptions answers -32601): only request streams are used.
                    return;
                }

                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // Either the session is gone — the next POST says so, and the session is opened again — or the server
                    // has no GET stream and says it with 404 instead of 405 (the conformance suite's own servers do):
                    // either way there is nothing to listen to.
                    Log.StreamFailed(_logger, ServerName, "HTTP 404 on the GET stream; not listening");
                    return;
                }

                if (!response.IsSuccessStatusCode)
                {
                    Log.StreamFailed(_logger, ServerName, $"HTTP {(int)response.StatusCode}");
                }
                else
                {
                    var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                    var (retry, eventId) = await ReadStreamAsync(stream, token).ConfigureAwait(false);
                    if (_listenAnswered)
                    {
                        return;
                    }

                    lastEventId = eventId ?? lastEventId;
                    delay = retry ?? s_minimumReconnectDelay;
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException)
            {
                Log.StreamFailed(_logger, ServerName, ex.Message);
                delay = delay * 2 > s_maximumReconnectDelay ? s_maximumReconnectDelay : delay * 2;
            }

            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<(TimeSpan? Retry, string? LastEventId)> ReadStreamAsync(Stream stream, CancellationToken token)
    {
        var reader = PipeReader.Create(stream);
        using var parser = new SseParser();
        TimeSpan? retry = null;
        string? lastEventId = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (parser.TryReadEvent(ref buffer, out var sseEvent))
                {
                    if (sseEvent.HasId)
                    {
                        lastEventId = Encoding.UTF8.GetString(sseEvent.Id.Span);
                    }

                    if (sseEvent.RetryMilliseconds >= 0)
                    {
                        retry = TimeSpan.FromMilliseconds(sseEvent.RetryMilliseconds);
                    }

                    if (sseEvent.IsMessage && !sseEvent.Data.IsEmpty)
                    {
                        Dispatch(UpstreamMessage.Copy(sseEvent.Data.Span));
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return (retry, lastEventId);
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(UpstreamMessage message)
    {
        var envelope = message.Envelope;
        if (envelope.IsNotification)
        {
            _listener.OnNotification(this, message);
        }
        else if (envelope.IsRequest)
        {
            _listener.OnRequest(this, message);
        }
        else if (SpeaksModern)
        {
            // The answer to subscriptions/listen: a 2026-07-28 server that ends its listen stream with a response (an
            // error: it has no subscriptions) is not asked again.
            _listenAnswered = true;
            message.Dispose();
        }
        else
        {
            // Responses never belong on the GET stream unless resuming one; nothing waits for them here.
            Log.ProtocolViolation(_logger, ServerName, "a response arrived on the GET stream");
            message.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.HttpStreamFailed, LogLevel.Debug, "GET stream of upstream '{Server}' failed: {Reason}; reconnecting")]
        public static partial void StreamFailed(ILogger logger, string server, string reason);

        [LoggerMessage(Observability.EventIds.UpstreamProtocolViolation, LogLevel.Warning, "Upstream '{Server}' broke the protocol: {Detail}")]
        public static partial void ProtocolViolation(ILogger logger, string server, string detail);
    }
}
