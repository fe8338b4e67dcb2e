using System.Buffers;
using System.Buffers.Text;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Gateway.Endpoints;

internal sealed partial class McpPostHandler
{
    private static void HandleNotification(DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope)
    {
        switch (envelope.Method)
        {
            case McpMethod.NotificationsInitialized:
                session.Initialized = true;
                break;

            case McpMethod.NotificationsCancelled when !envelope.RequestId.IsEmpty:
                // Only the one call it names is cancelled; the relay then tells that call's upstream.
                var token = envelope.RequestId.Slice(body.Span);
                var key = RequestKey.From(token, token[0] == (byte)'"' ? JsonRpcIdKind.String : JsonRpcIdKind.Number);
                if (session.TryFindInFlight(key, out var call, out var generation))
                {
                    call!.CancelByClient(generation);
                }

                break;

            case McpMethod.NotificationsRootsListChanged:
                // Shared upstream sessions do not use client roots; a client's own (per_session) ones do.
                foreach (var upstream in session.OwnUpstreamSessions())
                {
                    _ = upstream.SendAsync(body.Memory.ToArray(), CancellationToken.None).AsTask();
                }

                break;

            // Progress from a client: nothing asked for it.
        }
    }

    /// <summary>A client's answer to a sampling, elicitation or roots request: back to the upstream, under the upstream's id.</summary>
    private static async Task HandleClientResponseAsync(DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope)
    {
        var token = envelope.Id.Slice(body.Span);
        if (envelope.IdKind != JsonRpcIdKind.Number
            || !Utf8Parser.TryParse(token, out long gatewayId, out var consumed) || consumed != token.Length
            || !session.ServerRequests.TryRemove(gatewayId, out var pending))
        {
            return; // late or unknown: the call it belonged to has ended
        }

        if (pending.Local is { } local)
        {
            // The gateway's own request (an input request for a 2026-07-28 server, a policy's approval): the answer is its.
            local.TrySetResult(body.Span.ToArray());
            return;
        }

        var rewriter = new MessageRewriter();
        rewriter.Replace(envelope.Id, pending.UpstreamId);
        var output = new ArrayBufferWriter<byte>(body.Memory.Length + pending.UpstreamId.Length);
        rewriter.WriteTo(body.Span, output);
        pending.Call?.TryFindServerRequest(pending.UpstreamId, out _, remove: true);
        await pending.Upstream!.SendAsync(output.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
    }
}
