using System.Buffers;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Writes one call's answer to the client. It answers with plain JSON when the upstream's response is the
/// first thing to relay, and switches to an SSE stream as soon as something must precede it (progress,
/// logs, a sampling request). Messages are spliced straight into the response pipe.
/// </summary>
internal sealed class DownstreamWriter
{
    private readonly HttpContext _context;
    private readonly DownstreamSession _session;
    private bool _streaming;
    private int _stream = -1;

    public DownstreamWriter(HttpContext context, DownstreamSession session)
    {
        _context = context;
        _session = session;
    }

    /// <summary>True once anything was sent (then an error must go in-band, as an event).</summary>
    public bool Started => _streaming || _context.Response.HasStarted;

    /// <summary>Writes the response with the client's id put back in place of the upstream id.</summary>
    /// <remarks>
    /// <paramref name="members"/> (a 2026-07-28 client's <c>resultType</c> and caching hints, ending with a comma) are
    /// spliced in after the result's opening brace.
    /// </remarks>
    public Task WriteFinalAsync(UpstreamMessage message, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> members = default)
    {
        var rewriter = new MessageRewriter();
        rewriter.Replace(message.Envelope.Id, clientId.Span);
        if (!members.IsEmpty && message.Envelope.Kind == JsonRpcMessageKind.Response
            && Stateless.ModernResults.Splice(message.Span, message.Envelope.Result, members) is { } splice)
        {
            rewriter.Insert(splice.Offset, splice.Text.Span);
        }

        return WriteFinal(message.Span, ref rewriter);
    }

    /// <summary>Writes the response with the client's id, and one token of its result replaced (a 2026-07-28 <c>requestState</c>).</summary>
    public Task WriteFinalReplacingAsync(UpstreamMessage message, ReadOnlyMemory<byte> clientId, JsonRange range, ReadOnlyMemory<byte> replacement)
    {
        var rewriter = new MessageRewriter();
        rewriter.Replace(message.Envelope.Id, clientId.Span);
        if (range.Length == 0)
        {
            rewriter.Insert(range.Start, replacement.Span);
        }
        else
        {
            rewriter.Replace(range, replacement.Span);
        }

        return WriteFinal(message.Span, ref rewriter);
    }

    /// <summary>Writes a result the gateway made (a 2026-07-28 <c>InputRequiredResult</c>) as the final message.</summary>
    public Task WriteFinalResultAsync(ReadOnlyMemory<byte> clientId, ReadOnlySpan<byte> result)
    {
        using var body = new PooledBufferWriter(result.Length + clientId.Length + 32);
        JsonRpcWriter.WriteResult(body, clientId.Span, result);
        var rewriter = new MessageRewriter();
        return WriteFinal(body.WrittenSpan, ref rewriter);
    }

    /// <summary>
    /// Writes the response of a <c>resources/read</c> under prefixed naming: the client's id, and every
    /// <c>contents[].uri</c> with the server's prefix, so the URIs are the ones the client knows.
    /// </summary>
    public Task WriteFinalWithPrefixedUrisAsync(UpstreamMessage message, ReadOnlyMemory<byte> clientId, string server, ReadOnlyMemory<byte> members = default)
    {
        if (message.Envelope.Kind != JsonRpcMessageKind.Response)
        {
            return WriteFinalAsync(message, clientId);
        }

        using var result = new PooledBufferWriter(message.Envelope.Result.Length + 64);
        Catalog.ResourceUris.WriteResultWithPrefixedUris(message.Envelope.Result.Slice(message.Span), server, result);
        var rewriter = new MessageRewriter();
        rewriter.Replace(message.Envelope.Id, clientId.Span);
        var decorated = members.IsEmpty || result.WrittenCount == 0 ? null : Stateless.ModernResults.Decorate(result.WrittenSpan, members.Span);
        rewriter.Replace(message.Envelope.Result, decorated ?? result.WrittenSpan);
        return WriteFinal(message.Span, ref rewriter);
    }

    /// <summary>The final message: the last event of the stream, or the whole JSON answer when nothing was streamed.</summary>
    private Task WriteFinal(ReadOnlySpan<byte> message, scoped ref MessageRewriter rewriter)
    {
        if (_streaming)
        {
            WriteEvent(message, ref rewriter);
            EndStream();
        }
        else
        {
            var response = _context.Response;
            response.StatusCode = FinalStatus;
            response.ContentType = "application/json";
            response.ContentLength = rewriter.RewrittenLength(message.Length);
            rewriter.WriteTo(message, response.BodyWriter);
        }

        return FlushAsync();
    }

    /// <summary>
    /// The HTTP status of a final message sent as plain JSON: 200, except for the 2026-07-28 errors the revision puts in
    /// a 4xx (a server's -32021 reaches the client as the 400 it was).
    /// </summary>
    public int FinalStatus { get; set; } = StatusCodes.Status200OK;

    /// <summary>Relays a message on the stream, replacing one token (an id or a progress token) if given.</summary>
    public Task WriteEventAsync(UpstreamMessage message, JsonRange replace = default, ReadOnlyMemory<byte> replacement = default)
    {
        var rewriter = new MessageRewriter();
        rewriter.Replace(replace, replacement.Span);
        WriteEvent(message.Span, ref rewriter);
        return FlushAsync();
    }

    /// <summary>Sends a message the gateway made (a server-to-client request it asks on a server's behalf) as an event.</summary>
    public Task WriteEventAsync(ReadOnlySpan<byte> message)
    {
        var rewriter = new MessageRewriter();
        WriteEvent(message, ref rewriter);
        return FlushAsync();
    }

    /// <summary>Answers with an error: a JSON response if nothing was sent yet, else a final event.</summary>
    public Task WriteErrorAsync(GatewayError error, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> data = default)
    {
        var (_, code) = GatewayErrors.Map(error.Kind);
        using var body = new PooledBufferWriter();
        JsonRpcWriter.WriteError(body, clientId.Span, code, error.Message, data.Span);
        return WriteFinalAsync(body.WrittenSpan);
    }

    /// <summary>
    /// Answers with URLElicitationRequiredError (-32042): the client shows the user <paramref name="url"/> (the gateway's
    /// connect page), and the model may call again once the user is done there.
    /// </summary>
    public Task WriteUrlElicitationRequiredAsync(string message, string url, ReadOnlyMemory<byte> clientId)
    {
        using var data = new PooledBufferWriter();
        using (var json = new System.Text.Json.Utf8JsonWriter(data, JsonRpcWriter.RelaxedOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("elicitations");
            json.WriteStartObject();
            json.WriteString("mode", "url");
            json.WriteString("elicitationId", Guid.NewGuid().ToString("N"));
            json.WriteString("url", url);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return WriteErrorAsync(new GatewayError(GatewayErrorKind.UrlElicitationRequired, "This request needs you to connect an account first."), clientId, data.WrittenMemory);
    }

    /// <summary>Answers a <c>tools/call</c> with a tool error (<c>isError: true</c>) the model can read.</summary>
    public Task WriteToolErrorAsync(string text, ReadOnlyMemory<byte> clientId)
    {
        using var result = new PooledBufferWriter();
        using (var json = new System.Text.Json.Utf8JsonWriter(result, JsonRpcWriter.RelaxedOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("content");
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", text);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteBoolean("isError", true);
            json.WriteEndObject();
        }

        using var body = new PooledBufferWriter();
        JsonRpcWriter.WriteResult(body, clientId.Span, result.WrittenSpan);
        return WriteFinalAsync(body.WrittenSpan);
    }

    /// <summary>A response the gateway made: a JSON response if nothing was sent yet, else the stream's final event.</summary>
    private Task WriteFinalAsync(ReadOnlySpan<byte> body)
    {
        if (_streaming)
        {
            var rewriter = new MessageRewriter();
            WriteEvent(body, ref rewriter);
            EndStream();
        }
        else
        {
            var response = _context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            response.BodyWriter.Write(body);
        }

        return FlushAsync();
    }

    /// <summary>Ends the answer without a response (the client cancelled the request): an empty event stream.</summary>
    public Task EndWithoutResponseAsync()
    {
        StartStream();
        EndStream();
        return FlushAsync();
    }

    /// <summary>
    /// Frames one message as an event. On a resumable stream the event gets an id and a copy is kept in the
    /// session's replay log, so a client that lost the connection can ask for it again with <c>Last-Event-ID</c>.
    /// </summary>
    private void WriteEvent(ReadOnlySpan<byte> source, ref MessageRewriter rewriter)
    {
        StartStream();
        var output = _context.Response.BodyWriter;
        if (_stream < 0)
        {
            SseFrames.Write(output, source, ref rewriter, default);
            return;
        }

        SseFrames.WriteReplayable(output, _session.Replay, _stream, source, ref rewriter);
    }

    private void StartStream()
    {
        if (_streaming)
        {
            return;
        }

        _streaming = true;
        var response = _context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        if (_session.ReplayBudget <= 0 || _context.Items.ContainsKey(SseFrames.BatchPartKey))
        {
            return;
        }

        _stream = _session.Replay.OpenStream();
        if (_session.TakesPrimingEvents)
        {
            // 2025-11-25: an id with empty data first, so the client can resume even before the first real event.
            Span<byte> id = stackalloc byte[32];
            var idLength = SessionReplay.FormatEventId(_stream, 0, id);
            SseWriter.WritePriming(response.BodyWriter, id[..idLength], SseFrames.RetryMilliseconds);
        }
    }

    private void EndStream()
    {
        if (_stream >= 0)
        {
            _session.Replay.Complete(_stream);
        }
    }

    private Task FlushAsync()
    {
        var flush = _context.Response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }
}
