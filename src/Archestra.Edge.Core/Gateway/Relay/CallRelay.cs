using System.Buffers;
using System.Buffers.Text;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Relays one client request to one upstream and the upstream's answer back:
/// <code>
///  client ──POST {id:"c7", name:"srv__echo", _meta.progressToken:"p"}──▶ gateway
///  gateway ──{id:41, name:"echo", _meta.progressToken:41}──▶ upstream        (only these tokens are spliced)
///  upstream ──progress {progressToken:41}, sampling {id:3}, …, response {id:41}──▶ gateway
///  gateway ──progress {progressToken:"p"}, sampling {id:9}, …, response {id:"c7"}──▶ client
/// </code>
/// The upstream id doubles as the progress token, so a shared upstream routes progress exactly. A dead
/// upstream session (HTTP 404, exited process) is replaced once, transparently, before anything was sent.
/// </summary>
internal sealed partial class CallRelay
{
    private readonly GatewayHost _host;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public CallRelay(GatewayHost host, TimeProvider timeProvider, ILogger<CallRelay> logger)
    {
        _host = host;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>
    /// Runs a relayed request from start to end: registers it (so a cancel finds it at once), lets
    /// <paramref name="resolve"/> find the target under the call's token, then relays. Timeouts, cancels and
    /// disconnects during either phase end here.
    /// </summary>
    public async Task RunAsync<TState>(HttpContext context, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope,
        TState state, Func<TState, RelayCall, ValueTask<(RelayTarget Target, GatewayError Error)>> resolve)
    {
        var clientId = body.Memory.Slice(envelope.Id.Start, envelope.Id.Length);
        var writer = new DownstreamWriter(context);
        using var call = RelayCall.Begin(context, session, RequestKey.From(clientId.Span, envelope.IdKind), _host.Current.Snapshot.Limits.CallTimeout, _timeProvider);
        try
        {
            var (target, error) = await resolve(state, call).ConfigureAwait(false);
            if (error.Kind != GatewayErrorKind.None)
            {
                await writer.WriteErrorAsync(error, clientId).ConfigureAwait(false);
                return;
            }

            call.Target(target.Server);
            await RelayAsync(writer, session, body, envelope, call, target, clientId).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (call.Token.IsCancellationRequested)
        {
            await StopAsync(writer, call, clientId).ConfigureAwait(false);
        }
    }

    private async Task RelayAsync(DownstreamWriter writer, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope, RelayCall call, RelayTarget target, ReadOnlyMemory<byte> clientId)
    {
        var server = target.Server;
        var clientProgressToken = envelope.ProgressToken.IsEmpty ? default : body.Memory.Slice(envelope.ProgressToken.Start, envelope.ProgressToken.Length);
        using var request = new PooledBufferWriter(body.Memory.Length + 32);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var (upstream, error) = await server.GetSessionAsync(call.Token).ConfigureAwait(false);
            if (upstream is null)
            {
                await writer.WriteErrorAsync(GatewayError.From(error, server.Name), clientId).ConfigureAwait(false);
                return;
            }

            var upstreamId = upstream.NextRequestId();
            call.Upstream = upstream;
            call.UpstreamId = upstreamId;
            request.Reset();
            WriteUpstreamRequest(request, body.Span, envelope, target, upstreamId);

            var (reply, sendError) = await upstream.SendRequestAsync(upstreamId, request.WrittenMemory, session, call.Token).ConfigureAwait(false);
            if (reply is null)
            {
                if (sendError.Kind == UpstreamErrorKind.SessionExpired && attempt == 0)
                {
                    continue; // the upstream session ended under us: open a new one and send again
                }

                await writer.WriteErrorAsync(GatewayError.From(sendError, server.Name), clientId).ConfigureAwait(false);
                return;
            }

            await using (reply.ConfigureAwait(false))
            {
                await PumpAsync(reply, writer, session, call, server, clientId, clientProgressToken).ConfigureAwait(false);
            }

            return;
        }
    }

    /// <summary>Reads the upstream's messages for this call until its response, relaying each.</summary>
    private async Task PumpAsync(IUpstreamReply reply, DownstreamWriter writer, DownstreamSession session, RelayCall call, UpstreamServer server, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> clientProgressToken)
    {
        while (true)
        {
            using var message = await reply.ReadAsync(call.Token).ConfigureAwait(false);
            if (message is null)
            {
                await writer.WriteErrorAsync(GatewayError.From(reply.Error, call.Upstream!.ServerName), clientId).ConfigureAwait(false);
                return;
            }

            var envelope = message.Envelope;
            switch (envelope.Kind)
            {
                case JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse:
                    if (IsId(message.Span, envelope.Id, call.UpstreamId))
                    {
                        await writer.WriteFinalAsync(message, clientId).ConfigureAwait(false);
                        return;
                    }

                    Log.StrayResponse(_logger, call.Upstream!.ServerName);
                    break;

                case JsonRpcMessageKind.Notification:
                    await RelayNotificationAsync(message, writer, session, call, server, clientProgressToken).ConfigureAwait(false);
                    break;

                case JsonRpcMessageKind.Request:
                    await RelayServerRequestAsync(message, writer, session, call).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task StopAsync(DownstreamWriter writer, RelayCall call, ReadOnlyMemory<byte> clientId)
    {
        var what = call.Server is { } server ? $"Upstream '{server.Name}'" : "The request";
        var limit = Units.FormatDuration(call.Timeout);
        var stop = call.Stop;
        if (stop is RelayStop.Timeout or RelayStop.CancelledByClient or RelayStop.SessionEnded)
        {
            // Tell the upstream to stop working on it (never for a mere disconnect: the spec says that is not a cancel).
            SendCancel(call, stop == RelayStop.Timeout ? "timed out at the gateway" : "cancelled by the client");
        }

        try
        {
            switch (stop)
            {
                case RelayStop.Timeout:
                    Log.CallTimedOut(_logger, call.Server?.Name ?? "(unresolved)", limit);
                    await writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamTimeout, $"{what} did not answer within {limit}"), clientId).ConfigureAwait(false);
                    break;
                case RelayStop.CancelledByClient or RelayStop.SessionEnded:
                    await writer.EndWithoutResponseAsync().ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone too.
        }
    }

    private static void SendCancel(RelayCall call, string reason)
    {
        if (call.Upstream is not { } upstream)
        {
            return;
        }

        var writer = new ArrayBufferWriter<byte>(128);
        writer.Write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":"u8);
        JsonRpcWriter.WriteLong(writer, call.UpstreamId);
        writer.Write(",\"reason\":"u8);
        JsonRpcWriter.WriteString(writer, reason);
        writer.Write("}}"u8);
        _ = upstream.SendAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
    }

    /// <summary>The client's request with the upstream's id (and name and progress token) spliced in.</summary>
    private static void WriteUpstreamRequest(PooledBufferWriter output, ReadOnlySpan<byte> body, in JsonRpcEnvelope envelope, RelayTarget target, long upstreamId)
    {
        Span<byte> id = stackalloc byte[20];
        Utf8Formatter.TryFormat(upstreamId, id, out var idLength);
        scoped var rewriter = new MessageRewriter();
        rewriter.Replace(envelope.Id, id[..idLength]);
        if (target.UpstreamName is { } name)
        {
            rewriter.Replace(target.NameRange, name);
        }

        rewriter.Replace(envelope.ProgressToken, id[..idLength]);
        rewriter.WriteTo(body, output);
    }

    private static bool IsId(ReadOnlySpan<byte> message, JsonRange range, long expected)
    {
        if (range.IsEmpty)
        {
            return false;
        }

        var token = range.Slice(message);
        if (token[0] == (byte)'"')
        {
            token = token[1..^1];
        }

        return Utf8Parser.TryParse(token, out long value, out var consumed) && consumed == token.Length && value == expected;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.CallTimedOut, LogLevel.Warning, "A call to upstream '{Server}' timed out after {Timeout}; cancelled upstream")]
        public static partial void CallTimedOut(ILogger logger, string server, string timeout);

        [LoggerMessage(Observability.EventIds.UnattributedMessage, LogLevel.Debug, "Upstream '{Server}' answered a request that is not this call's; dropped")]
        public static partial void StrayResponse(ILogger logger, string server);

        [LoggerMessage(Observability.EventIds.ServerRequestRefused, LogLevel.Information, "Upstream '{Server}' asked for {Method}, which the client did not declare; refused")]
        public static partial void ServerRequestRefused(ILogger logger, string server, string method);
    }
}
