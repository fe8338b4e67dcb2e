using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway;

internal sealed partial class GatewayRuntime
{
    private static readonly byte[] s_subscribe = "resources/subscribe"u8.ToArray();
    private static readonly byte[] s_unsubscribe = "resources/unsubscribe"u8.ToArray();

    void IUpstreamEvents.OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened)
    {
        if (!reopened)
        {
            return;
        }

        // A restarted server may list different things, and has lost the subscriptions made on its old session.
        foreach (var kind in (ReadOnlySpan<CatalogKind>)[CatalogKind.Tools, CatalogKind.Prompts])
        {
            if (_listCaches[(server, kind)].Invalidate())
            {
                ListChanged(server, kind);
            }
        }

        foreach (var uri in Subscriptions.UrisOf(server))
        {
            _ = SendSubscriptionAsync(server, s_subscribe, uri);
        }
    }

    void IUpstreamEvents.OnSessionClosed(UpstreamServer server, UpstreamSession session)
    {
    }

    void IUpstreamEvents.OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message)
    {
        using (message)
        {
            var envelope = message.Envelope;
            switch (envelope.Method)
            {
                case McpMethod.NotificationsToolsListChanged:
                    _listCaches[(server, CatalogKind.Tools)].Invalidate();
                    ListChanged(server, CatalogKind.Tools);
                    break;

                case McpMethod.NotificationsPromptsListChanged:
                    _listCaches[(server, CatalogKind.Prompts)].Invalidate();
                    ListChanged(server, CatalogKind.Prompts);
                    break;

                case McpMethod.NotificationsResourcesListChanged:
                    var bytes = message.Span.ToArray();
                    foreach (var session2 in Sessions.All)
                    {
                        if (ReferenceEquals(session2.Profile.ResourceServer, server))
                        {
                            session2.Post(bytes);
                        }
                    }

                    break;

                case McpMethod.NotificationsResourcesUpdated when !envelope.Uri.IsEmpty:
                    var uri = DecodeString(envelope.Uri.Slice(message.Span));
                    var update = message.Span.ToArray();
                    foreach (var subscriber in Subscriptions.SubscribersOf(server, uri))
                    {
                        subscriber.Post(update);
                    }

                    break;

                case McpMethod.NotificationsMessage:
                    // A server's own log line, not tied to a call: every session that uses the server may see it,
                    // filtered by that session's logging/setLevel.
                    var severity = envelope.Level.IsEmpty ? LogLevels.Unset : LogLevels.Parse(envelope.Level.StringContent(message.Span));
                    var log = message.Span.ToArray();
                    foreach (var session3 in Sessions.All)
                    {
                        if (session3.Profile.Uses(server) && session3.WantsLog(severity))
                        {
                            session3.Post(log);
                        }
                    }

                    break;

                default:
                    Log.Unattributed(_logger, server.Name, Encoding.UTF8.GetString(envelope.MethodName.Slice(message.Span)));
                    break;
            }
        }
    }

    void IUpstreamEvents.OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message)
    {
        using (message)
        {
            var envelope = message.Envelope;
            var writer = new ArrayBufferWriter<byte>(128);
            if (envelope.Method == McpMethod.Ping)
            {
                JsonRpcWriter.WriteResult(writer, envelope.Id.Slice(message.Span), "{}"u8);
            }
            else
            {
                // Sampling, elicitation or roots need a client; outside of a call there is none to ask.
                JsonRpcWriter.WriteError(writer, envelope.Id.Slice(message.Span), JsonRpcErrorCode.MethodNotFound,
                    "The gateway relays server-to-client requests only while a call from a client is in progress");
            }

            _ = session.SendAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
        }
    }

    /// <summary>Drops the server's part of every catalog of this kind and tells the affected sessions.</summary>
    private void ListChanged(UpstreamServer server, CatalogKind kind)
    {
        var cache = _listCaches[(server, kind)];
        var notification = Encoding.UTF8.GetBytes(
            $"{{\"jsonrpc\":\"2.0\",\"method\":\"{McpMethods.NameString(CatalogKinds.ListChangedNotification(kind))}\"}}");
        foreach (var profile in Profiles.Values)
        {
            var holder = profile.CatalogOf(kind);
            if (!holder.Uses(cache))
            {
                continue;
            }

            holder.Invalidate();
            Log.CatalogInvalidated(_logger, profile.Name, CatalogKinds.ResultProperty(kind), server.Name);
            foreach (var session in Sessions.All)
            {
                if (ReferenceEquals(session.Profile, profile))
                {
                    session.Post(notification);
                }
            }
        }
    }

    internal Task SubscribeUpstreamAsync(UpstreamServer server, string uri) => SendSubscriptionAsync(server, s_subscribe, uri);

    internal Task UnsubscribeUpstreamAsync(UpstreamServer server, string uri) => SendSubscriptionAsync(server, s_unsubscribe, uri);

    private async Task SendSubscriptionAsync(UpstreamServer server, byte[] method, string uri)
    {
        try
        {
            var upstream = server.CurrentSession;
            if (upstream is null)
            {
                return;
            }

            var parameters = new ArrayBufferWriter<byte>();
            parameters.Write("{\"uri\":"u8);
            JsonRpcWriter.WriteString(parameters, uri);
            parameters.Write("}"u8);
            using var timeout = new CancellationTokenSource(server.Model.CallTimeout, TimeProvider);
            var (response, _) = await upstream.RequestAsync(method, parameters.WrittenMemory, timeout.Token).ConfigureAwait(false);
            response?.Dispose();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string DecodeString(ReadOnlySpan<byte> token)
    {
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString() ?? string.Empty;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.CatalogInvalidated, LogLevel.Information, "Profile '{Profile}': the {Kind} of server '{Server}' changed; clients are told")]
        public static partial void CatalogInvalidated(ILogger logger, string profile, string kind, string server);

        [LoggerMessage(Observability.EventIds.UnattributedMessage, LogLevel.Debug, "Upstream '{Server}' sent {Method} outside of a call; nothing to relay it to")]
        public static partial void Unattributed(ILogger logger, string server, string method);
    }
}
