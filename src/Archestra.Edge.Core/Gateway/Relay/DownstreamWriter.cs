using System.Buffers;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
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
    private bool _streaming;

    public DownstreamWriter(HttpContext context)
    {
        _context = context;
    }

    /// <summary>True once anything was sent (then an error must go in-band, as an event).</summary>
    public bool Started => _streaming || _context.Response.HasStarted;

    /// <summary>Writes the response with the client's id put back in place of the upstream id.</summary>
    public Task WriteFinalAsync(UpstreamMessage message, ReadOnlyMemory<byte> clientId)
    {
        var rewriter = new MessageRewriter();
        rewriter.Replace(message.Envelope.Id, clientId.Span);
        if (_streaming)
        {
            WriteEvent(message.Span, ref rewriter);
        }
        else
        {
            var response = _context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = rewriter.RewrittenLength(message.Length);
            rewriter.WriteTo(message.Span, response.BodyWriter);
        }

        return FlushAsync();
    }

    /// <summary>Relays a message on the stream, replacing one token (an id or a progress token) if given.</summary>
    public Task WriteEventAsync(UpstreamMessage message, JsonRange replace = default, ReadOnlyMemory<byte> replacement = default)
    {
        var rewriter = new MessageRewriter();
        rewriter.Replace(replace, replacement.Span);
        WriteEvent(message.Span, ref rewriter);
        return FlushAsync();
    }

    /// <summary>Answers with an error: a JSON response if nothing was sent yet, else a final event.</summary>
    public Task WriteErrorAsync(GatewayError error, ReadOnlyMemory<byte> clientId)
    {
        var (_, code) = GatewayErrors.Map(error.Kind);
        using var body = new PooledBufferWriter();
        JsonRpcWriter.WriteError(body, clientId.Span, code, error.Message);
        if (_streaming)
        {
            var rewriter = new MessageRewriter();
            WriteEvent(body.WrittenSpan, ref rewriter);
        }
        else
        {
            var response = _context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = body.WrittenCount;
            response.BodyWriter.Write(body.WrittenSpan);
        }

        return FlushAsync();
    }

    /// <summary>Ends the answer without a response (the client cancelled the request): an empty event stream.</summary>
    public Task EndWithoutResponseAsync()
    {
        StartStream();
        return FlushAsync();
    }

    private void WriteEvent(ReadOnlySpan<byte> source, ref MessageRewriter rewriter)
    {
        StartStream();
        var output = _context.Response.BodyWriter;
        if (source.IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            // The common case: splice directly between the frame's prefix and suffix.
            output.Write("event: message\ndata: "u8);
            rewriter.WriteTo(source, output);
            output.Write("\n\n"u8);
            return;
        }

        // Pretty-printed JSON: splice first, then frame it line by line.
        using var spliced = new PooledBufferWriter(source.Length);
        rewriter.WriteTo(source, spliced);
        SseWriter.WriteMessage(output, spliced.WrittenSpan);
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
    }

    private Task FlushAsync()
    {
        var flush = _context.Response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }
}
