using System.Buffers;
using System.Buffers.Text;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Streams;

/// <summary>
/// An upstream session whose server sends everything on one stream of messages (stdio's stdout, the legacy
/// HTTP+SSE event stream), so replies must be sorted out by the gateway: responses and progress by id,
/// logs and server-to-client requests to the call they most likely belong to, the rest to the listener. The
/// transport supplies <see cref="TransmitAsync"/> and feeds what it reads to <see cref="Route"/>.
/// </summary>
internal abstract partial class MessageStreamSession : UpstreamSession
{
    private readonly PendingTable<PendingReply> _pending = new();

    protected MessageStreamSession(string serverName, IUpstreamListener listener, ILogger logger)
        : base(serverName)
    {
        Listener = listener;
        Logger = logger;
    }

    protected IUpstreamListener Listener { get; }

    protected ILogger Logger { get; }

    /// <summary>Why requests cannot be sent any more (the process exited, the stream ended).</summary>
    protected abstract string EndedReason { get; }

    /// <summary>Sends one message to the server. Completes synchronously when the transport only queues it.</summary>
    protected abstract ValueTask<UpstreamError> TransmitAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    public override ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(
        long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
    {
        if (!IsAlive)
        {
            return ValueTask.FromResult<(IUpstreamReply?, UpstreamError)>((null, UpstreamError.Expired(EndedReason)));
        }

        var reply = new PendingReply(_pending, id) { Caller = caller };
        _pending.Add(reply);
        var sending = SpeaksModern ? TransmitModern(message, caller, cancellationToken) : TransmitAsync(message, cancellationToken);
        if (sending.IsCompletedSuccessfully)
        {
            return ValueTask.FromResult(Sent(reply, sending.Result));
        }

        return AwaitSentAsync(reply, sending);
    }

    /// <summary>A request to a 2026-07-28 server over this stream: with the <c>_meta</c> of its caller, unless it carries its own.</summary>
    private ValueTask<UpstreamError> TransmitModern(ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
    {
        var envelope = Protocol.JsonRpc.EnvelopeReader.Read(message.Span);
        return envelope.MetaProtocolVersion.IsEmpty ? TransmitCompletedAsync(message, envelope, caller, cancellationToken) : TransmitAsync(message, cancellationToken);
    }

    private async ValueTask<UpstreamError> TransmitCompletedAsync(ReadOnlyMemory<byte> message, Protocol.JsonRpc.JsonRpcEnvelope envelope, ICallerContext? caller, CancellationToken cancellationToken)
    {
        using var output = new Protocol.Buffers.PooledBufferWriter(message.Length + 320);
        CompleteModernMeta(message.Span, envelope, caller, output);
        return await TransmitAsync(output.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    public override ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        => IsAlive ? TransmitAsync(message, cancellationToken) : ValueTask.FromResult(UpstreamError.Expired(EndedReason));

    private async ValueTask<(IUpstreamReply?, UpstreamError)> AwaitSentAsync(PendingReply reply, ValueTask<UpstreamError> sending)
    {
        UpstreamError error;
        try
        {
            error = await sending.ConfigureAwait(false);
        }
        catch
        {
            _pending.TryRemove(reply.Id, out _);
            throw;
        }

        return Sent(reply, error);
    }

    private (IUpstreamReply?, UpstreamError) Sent(PendingReply reply, UpstreamError error)
    {
        if (!error.IsError)
        {
            return (reply, UpstreamError.None);
        }

        _pending.TryRemove(reply.Id, out _);
        return (null, error);
    }

    /// <summary>Sorts one message from the server. Takes ownership of it.</summary>
    protected void Route(UpstreamMessage message)
    {
        var envelope = message.Envelope;
        switch (envelope.Kind)
        {
            case JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse:
                if (TryParseId(message.Span, envelope.Id, out var id) && _pending.TryRemove(id, out var reply))
                {
                    reply.Complete(message);
                }
                else
                {
                    Log.Unattributed(Logger, ServerName, "a response to a request that is no longer waiting");
                    message.Dispose();
                }

                return;

            case JsonRpcMessageKind.Notification:
                RouteNotification(message);
                return;

            case JsonRpcMessageKind.Request:
                if (envelope.Method == McpMethod.Ping)
                {
                    AnswerPing(message);
                    return;
                }

                switch (FindCall(out var owner))
                {
                    case Attribution.Call:
                        owner!.Enqueue(message);
                        break;
                    case Attribution.Ambiguous:
                        RefuseAmbiguous(message);
                        break;
                    default:
                        Listener.OnRequest(this, message);
                        break;
                }

                return;

            default:
                OnGarbage(message.Span);
                message.Dispose();
                return;
        }
    }

    /// <summary>Something that is not a JSON-RPC message arrived.</summary>
    protected abstract void OnGarbage(ReadOnlySpan<byte> bytes);

    private void RouteNotification(UpstreamMessage message)
    {
        var envelope = message.Envelope;
        switch (envelope.Method)
        {
            case McpMethod.NotificationsProgress:
                // The gateway sends its request id as the progress token, so progress finds its call exactly.
                if (TryParseId(message.Span, envelope.ProgressToken, out var token) && _pending.TryGet(token, out var call))
                {
                    call.Enqueue(message);
                }
                else
                {
                    message.Dispose();
                }

                return;

            case McpMethod.NotificationsMessage or McpMethod.NotificationsCancelled:
                // One stream carries no link from a log line to a request: with exactly one call in flight it is that
                // call's; otherwise it is the server's (delivered to sessions outside of calls).
                if (FindCall(out var single) == Attribution.Call)
                {
                    single!.Enqueue(message);
                }
                else
                {
                    Listener.OnNotification(this, message);
                }

                return;

            default:
                Listener.OnNotification(this, message);
                return;
        }
    }

    private enum Attribution
    {
        None,
        Call,
        Ambiguous,
    }

    /// <summary>
    /// The call an unlinked message (a server-to-client request, a log line) belongs to. One stream says nothing
    /// about it, so it is attributed only when that is safe: the only call in flight, or the oldest when every call
    /// in flight is for the same client. Calls of several clients at once are ambiguous: a guess could show one
    /// client's sampling prompt to another.
    /// </summary>
    private Attribution FindCall(out PendingReply? call)
    {
        call = null;
        var count = _pending.Count;
        if (count == 0)
        {
            return Attribution.None;
        }

        if (count == 1)
        {
            // The common case, without a snapshot.
            call = _pending.Oldest();
            return call?.Caller is null ? Attribution.None : Attribution.Call;
        }

        // The gateway's own requests (lists, subscriptions) have no client and are never the ones asking.
        foreach (var pending in _pending.Snapshot())
        {
            if (pending.Caller is null)
            {
                continue;
            }

            if (call is not null && !ReferenceEquals(pending.Caller, call.Caller))
            {
                call = null;
                return Attribution.Ambiguous;
            }

            if (call is null || pending.Id < call.Id)
            {
                call = pending;
            }
        }

        return call is null ? Attribution.None : Attribution.Call;
    }

    private void RefuseAmbiguous(UpstreamMessage request)
    {
        using (request)
        {
            var method = System.Text.Encoding.UTF8.GetString(request.Envelope.MethodName.StringContent(request.Span));
            Log.AmbiguousRequest(Logger, ServerName, method);
            var writer = new ArrayBufferWriter<byte>(256);
            JsonRpcWriter.WriteError(writer, request.Envelope.Id.Slice(request.Span), JsonRpcErrorCode.InternalError,
                $"The gateway cannot tell which client {method} is for: calls of several clients are in flight on this shared server. Configure sharing: per_session for servers that ask clients for sampling, elicitation or roots.");
            _ = TransmitAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
        }
    }

    private void AnswerPing(UpstreamMessage ping)
    {
        using (ping)
        {
            var writer = new ArrayBufferWriter<byte>(64);
            JsonRpcWriter.WriteResult(writer, ping.Envelope.Id.Slice(ping.Span), "{}"u8);
            _ = TransmitAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
        }
    }

    /// <summary>The session ended: every call still waiting fails with <paramref name="reason"/>, and the listener is told.</summary>
    protected void FailAll(UpstreamError reason)
    {
        foreach (var pending in _pending.RemoveAll())
        {
            pending.Fail(reason);
        }

        Listener.OnClosed(this, reason);
    }

    private static bool TryParseId(ReadOnlySpan<byte> message, JsonRange range, out long id)
    {
        id = 0;
        if (range.IsEmpty)
        {
            return false;
        }

        var token = range.Slice(message);
        if (token[0] == (byte)'"')
        {
            token = token[1..^1];
        }

        return Utf8Parser.TryParse(token, out id, out var consumed) && consumed == token.Length;
    }

    protected static string Preview(ReadOnlySpan<byte> bytes)
        => System.Text.Encoding.UTF8.GetString(bytes.Length > 200 ? bytes[..200] : bytes);

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.UnattributedMessage, LogLevel.Debug, "Upstream '{Server}': dropped {What}")]
        public static partial void Unattributed(ILogger logger, string server, string what);

        [LoggerMessage(Observability.EventIds.AmbiguousServerRequest, LogLevel.Warning,
            "Upstream '{Server}' sent {Method} while calls of several clients were in flight; refused, as it cannot be attributed (use sharing: per_session)")]
        public static partial void AmbiguousRequest(ILogger logger, string server, string method);
    }
}
