using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Relay;

internal sealed partial class CallRelay
{
    /// <summary>
    /// Progress, logs and other notifications that belong to this call travel on its stream. List changes and
    /// resource updates do not belong to the caller even when a server sends them during a call: they go to
    /// every affected session (and only to subscribers, for updates), as if they had come on the GET stream.
    /// </summary>
    private Task RelayNotificationAsync(UpstreamMessage message, DownstreamWriter writer, DownstreamSession session, RelayCall call, UpstreamServer server, ReadOnlyMemory<byte> clientProgressToken)
    {
        var envelope = message.Envelope;
        switch (envelope.Method)
        {
            case McpMethod.NotificationsProgress:
                // The upstream echoes the gateway's token; the client gets its own back. No token asked, no progress sent.
                return clientProgressToken.IsEmpty
                    ? Task.CompletedTask
                    : writer.WriteEventAsync(message, envelope.ProgressToken, clientProgressToken);

            case McpMethod.NotificationsMessage:
                var severity = envelope.Level.IsEmpty ? LogLevels.Unset : LogLevels.Parse(envelope.Level.StringContent(message.Span));
                return session.WantsLog(severity) ? writer.WriteEventAsync(message) : Task.CompletedTask;

            case McpMethod.NotificationsCancelled:
                // The upstream withdrew one of its server-to-client requests: give the client the id it knows.
                return call.TryFindServerRequest(envelope.RequestId.Slice(message.Span), out var gatewayId, remove: true)
                    ? WriteWithNumberAsync(writer, message, envelope.RequestId, gatewayId)
                    : Task.CompletedTask;

            case McpMethod.NotificationsToolsListChanged or McpMethod.NotificationsPromptsListChanged
                or McpMethod.NotificationsResourcesListChanged or McpMethod.NotificationsResourcesUpdated:
                ((IUpstreamEvents)_host.Current).OnNotification(server, call.Upstream!, UpstreamMessage.Copy(message.Span),
                    server.Model.Sharing == ServerSharing.PerSession ? session : null);
                return Task.CompletedTask;

            default:
                return writer.WriteEventAsync(message);
        }
    }

    /// <summary>
    /// Sampling, elicitation and roots requests go to the client of this call, with a gateway id, and only if
    /// the client declared the capability; otherwise the upstream gets an error at once. Pings are answered here.
    /// (A 2026-07-28 client that declared the capability never gets here: its call is parked instead.)
    /// </summary>
    private async Task RelayServerRequestAsync(UpstreamMessage message, DownstreamWriter writer, DownstreamSession session, RelayCall call)
    {
        var envelope = message.Envelope;
        var upstream = call.Upstream!;
        var upstreamId = envelope.Id.Slice(message.Span);
        var capabilities = session.Capabilities;
        var (allowed, capability) = envelope.Method switch
        {
            McpMethod.SamplingCreateMessage => (capabilities.Sampling, "sampling"),
            McpMethod.ElicitationCreate => (capabilities.ElicitationForm || capabilities.ElicitationUrl, "elicitation"),
            McpMethod.RootsList => (capabilities.Roots, "roots"),
            _ => (false, null),
        };

        if (envelope.Method == McpMethod.Ping)
        {
            await AnswerUpstreamAsync(upstream, upstreamId, "{}"u8.ToArray(), error: null).ConfigureAwait(false);
            return;
        }

        if (!allowed)
        {
            var method = Encoding.UTF8.GetString(envelope.MethodName.Slice(message.Span));
            Log.ServerRequestRefused(_logger, upstream.ServerName, method);
            var text = capability is null
                ? $"Method not found: {method}"
                : $"The client did not declare the '{capability}' capability, so the gateway cannot forward {method}";
            await AnswerUpstreamAsync(upstream, upstreamId, null, text).ConfigureAwait(false);
            return;
        }

        var gatewayId = session.NextServerRequestId();
        var upstreamIdCopy = upstreamId.ToArray();
        session.ServerRequests[gatewayId] = new PendingServerRequest(upstream, upstreamIdCopy, call);
        call.RememberServerRequest(upstreamIdCopy, gatewayId);
        await WriteWithNumberAsync(writer, message, envelope.Id, gatewayId).ConfigureAwait(false);
    }

    private static Task WriteWithNumberAsync(DownstreamWriter writer, UpstreamMessage message, JsonRange range, long number)
    {
        var digits = new byte[20];
        Utf8Formatter.TryFormat(number, digits, out var length);
        return writer.WriteEventAsync(message, range, digits.AsMemory(0, length));
    }

    private static Task<UpstreamError> AnswerUpstreamAsync(UpstreamSession upstream, ReadOnlySpan<byte> upstreamId, byte[]? result, string? error)
    {
        var writer = new ArrayBufferWriter<byte>(128);
        if (result is not null)
        {
            JsonRpcWriter.WriteResult(writer, upstreamId, result);
        }
        else
        {
            JsonRpcWriter.WriteError(writer, upstreamId, JsonRpcErrorCode.MethodNotFound, error!);
        }

        return upstream.SendAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
    }
}
