using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Archestra.Edge.Gateway.Endpoints;

internal sealed partial class McpPostHandler
{
    // A batch is a few messages, not a bulk channel.
    private const int MaxBatchElements = 100;

    /// <summary>
    /// A JSON-RPC batch from a 2025-03-26 client. Notifications and responses in it are taken as if posted alone;
    /// each request runs exactly as a single POST would, concurrently, and everything they answer (progress, server
    /// requests, the responses) comes back on one event stream, each response as its own event. A batch of only
    /// notifications and responses gets 202. Rate limits count every request in it; a refused one gets its error in
    /// the stream (and the response <c>Retry-After</c>), the others run.
    /// </summary>
    private async Task HandleBatchAsync(HttpContext context, GatewayRuntime runtime, DownstreamSession session, RequestBody body)
    {
        var (elements, parseError) = SplitBatch(body.Span);
        if (parseError is not null)
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.InvalidRequest, parseError)).ConfigureAwait(false);
            return;
        }

        var requests = new List<(ReadOnlyMemory<byte> Message, JsonRpcEnvelope Envelope)>();
        var immediate = new List<byte[]>();
        foreach (var range in elements)
        {
            var message = body.Memory.Slice(range.Start, range.Length);
            var envelope = EnvelopeReader.Read(message.Span);
            var element = RequestBody.FromMemory(message);
            switch (envelope.Kind)
            {
                case JsonRpcMessageKind.Invalid:
                    immediate.Add(ErrorMessage(InvalidMessage(envelope), IdOf(element, envelope)));
                    break;
                case JsonRpcMessageKind.Batch:
                    immediate.Add(ErrorMessage(new(GatewayErrorKind.InvalidRequest, "Invalid Request: batches do not nest"), default));
                    break;
                case JsonRpcMessageKind.Request when envelope.Method == McpMethod.Initialize:
                    immediate.Add(ErrorMessage(new(GatewayErrorKind.InvalidRequest, "Invalid Request: initialize must not be part of a batch"), IdOf(element, envelope)));
                    break;
                case JsonRpcMessageKind.Request when runtime.RateLimits.CheckRequest(context, session.Profile, session.Caller) is { Kind: not GatewayErrorKind.None } limited:
                    // Each request of a batch counts as one, as it would posted alone; a refused one is answered in place.
                    immediate.Add(ErrorMessage(limited, IdOf(element, envelope)));
                    break;
                case JsonRpcMessageKind.Request:
                    requests.Add((message, envelope));
                    break;
                case JsonRpcMessageKind.Notification:
                    HandleNotification(session, element, envelope);
                    break;
                default:
                    await HandleClientResponseAsync(session, element, envelope).ConfigureAwait(false);
                    break;
            }
        }

        if (requests.Count == 0 && immediate.Count == 0)
        {
            await ResponseWriter.AcceptedAsync(context).ConfigureAwait(false);
            return;
        }

        using var stream = new BatchStream(context, session);
        foreach (var error in immediate)
        {
            await stream.WriteAsync(error).ConfigureAwait(false);
        }

        var running = new Task[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            running[i] = RunBatchRequestAsync(context, runtime, session, requests[i].Message, requests[i].Envelope, stream);
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        stream.Complete();
    }

    /// <summary>Runs one request of a batch against a private response, and moves what it writes onto the batch's stream.</summary>
    private async Task RunBatchRequestAsync(HttpContext outer, GatewayRuntime runtime, DownstreamSession session, ReadOnlyMemory<byte> message, JsonRpcEnvelope envelope, BatchStream stream)
    {
        var pipe = new Pipe();
        var part = new DefaultHttpContext { RequestAborted = outer.RequestAborted };
        part.Features.Set<IHttpResponseBodyFeature>(new PipeResponseBody(pipe.Writer));
        part.Items[SseFrames.BatchPartKey] = true;

        var forwarding = ForwardPartAsync(part, pipe.Reader, stream);
        try
        {
            await HandleRequestAsync(part, runtime, session, RequestBody.FromMemory(message), envelope).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var id = IdOf(RequestBody.FromMemory(message), envelope);
            await stream.WriteAsync(ErrorMessage(new(GatewayErrorKind.InternalError, "Internal error while handling a batch element"), id)).ConfigureAwait(false);
        }
        finally
        {
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }

        await forwarding.ConfigureAwait(false);
    }

    /// <summary>Reads what one element's handler wrote: one JSON message, or an event stream whose messages are re-framed.</summary>
    private static async Task ForwardPartAsync(HttpContext part, PipeReader reader, BatchStream stream)
    {
        using var parser = new SseParser();
        using var json = new PooledBufferWriter();
        var isEventStream = false;
        var decided = false;
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (!decided && !buffer.IsEmpty)
            {
                decided = true;
                isEventStream = part.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true;
            }

            if (isEventStream)
            {
                while (parser.TryReadEvent(ref buffer, out var sseEvent))
                {
                    if (sseEvent.IsMessage && !sseEvent.Data.IsEmpty)
                    {
                        await stream.WriteAsync(sseEvent.Data.ToArray()).ConfigureAwait(false);
                    }
                }
            }
            else
            {
                foreach (var segment in buffer)
                {
                    json.Write(segment.Span);
                }

                buffer = buffer.Slice(buffer.End);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await reader.CompleteAsync().ConfigureAwait(false);
        if (!isEventStream && json.WrittenCount > 0)
        {
            await stream.WriteAsync(json.WrittenSpan.ToArray()).ConfigureAwait(false);
        }
    }

    /// <summary>The byte ranges of a batch's elements; an error text for an empty or oversized batch.</summary>
    private static (List<JsonRange> Elements, string? Error) SplitBatch(ReadOnlySpan<byte> body)
    {
        var elements = new List<JsonRange>();
        var reader = new Utf8JsonReader(body);
        reader.Read(); // StartArray: the envelope reader already validated the whole body
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            elements.Add(new JsonRange(start, (int)reader.BytesConsumed - start));
        }

        return elements.Count switch
        {
            0 => (elements, "Invalid Request: an empty batch"),
            > MaxBatchElements => (elements, $"Invalid Request: a batch may hold at most {MaxBatchElements} messages"),
            _ => (elements, null),
        };
    }

    private static byte[] ErrorMessage(GatewayError error, ReadOnlySpan<byte> id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        JsonRpcWriter.WriteError(buffer, id, GatewayErrors.Map(error.Kind).Code, error.Message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The batch's answer: one event stream, written to by every element's forwarder in turn.</summary>
    private sealed class BatchStream : IDisposable
    {
        private readonly HttpContext _context;
        private readonly DownstreamSession _session;
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly int _stream = -1;

        public BatchStream(HttpContext context, DownstreamSession session)
        {
            _context = context;
            _session = session;
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache, no-transform";
            if (session.ReplayBudget > 0)
            {
                _stream = session.Replay.OpenStream();
            }
        }

        public async Task WriteAsync(byte[] message)
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                var rewriter = new MessageRewriter();
                if (_stream < 0)
                {
                    SseFrames.Write(_context.Response.BodyWriter, message, ref rewriter, default);
                }
                else
                {
                    SseFrames.WriteReplayable(_context.Response.BodyWriter, _session.Replay, _stream, message, ref rewriter);
                }

                await _context.Response.BodyWriter.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Complete()
        {
            if (_stream >= 0)
            {
                _session.Replay.Complete(_stream);
            }
        }

        public void Dispose() => _gate.Dispose();
    }

    /// <summary>A response body that is a pipe the batch reads from.</summary>
    private sealed class PipeResponseBody(PipeWriter writer) : IHttpResponseBodyFeature
    {
        public Stream Stream { get; } = writer.AsStream();

        public PipeWriter Writer => writer;

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public Task CompleteAsync() => writer.FlushAsync().AsTask();
    }
}
