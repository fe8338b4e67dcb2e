using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway;

internal sealed partial class GatewayRuntime
{
    private static readonly byte[] s_subscribe = "resources/subscribe"u8.ToArray();
    private static readonly byte[] s_unsubscribe = "resources/unsubscribe"u8.ToArray();

    void IUpstreamEvents.OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened, ICallerContext? owner)
    {
        ApplyLogLevel(server, session, owner);
        if (!reopened)
        {
            // A first start that outlasted the first list request (a slow start): its lists failed, so read them now
            // rather than at the next back-off retry; clients are told when they come.
            if (owner is null)
            {
                foreach (var kind in CatalogKinds.All)
                {
                    if (_listCaches[(server, kind)] is { HasFailed: true } failed)
                    {
                        _ = failed.RefreshAsync();
                    }
                }
            }

            return;
        }

        if (owner is DownstreamSession ownerSession)
        {
            // A client's own session restarted: its subscriptions are renewed there; lists come from the shared one.
            foreach (var uri in Subscriptions.UrisOf(server, ownerSession))
            {
                _ = SendSubscriptionAsync(session, server, s_subscribe, uri);
            }

            return;
        }

        // A restarted server may list different things (clients are told if it does), and has lost the
        // subscriptions made on its old session.
        foreach (var kind in CatalogKinds.All)
        {
            _ = _listCaches[(server, kind)].RefreshAsync();
        }

        foreach (var uri in Subscriptions.UrisOf(server))
        {
            _ = SendSubscriptionAsync(server, s_subscribe, uri);
        }
    }

    void IUpstreamEvents.OnSessionClosed(UpstreamServer server, UpstreamSession session, ICallerContext? owner)
    {
    }

    void IUpstreamEvents.OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner)
    {
        using (message)
        {
            var envelope = message.Envelope;
            switch (envelope.Method)
            {
                case McpMethod.NotificationsToolsListChanged:
                    ListsChanged(server, CatalogKind.Tools);
                    break;

                case McpMethod.NotificationsPromptsListChanged:
                    ListsChanged(server, CatalogKind.Prompts);
                    break;

                case McpMethod.NotificationsResourcesListChanged:
                    ListsChanged(server, CatalogKind.Resources, CatalogKind.ResourceTemplates);
                    break;

                case McpMethod.NotificationsResourcesUpdated when !envelope.Uri.IsEmpty:
                    ResourceUpdated(server, message, owner as DownstreamSession);
                    break;

                case McpMethod.NotificationsMessage:
                    // A server's own log line, not tied to a call: every session that uses the server may see it,
                    // filtered by that session's logging/setLevel.
                    var severity = envelope.Level.IsEmpty ? LogLevels.Unset : LogLevels.Parse(envelope.Level.StringContent(message.Span));
                    var log = message.Span.ToArray();
                    if (owner is DownstreamSession only)
                    {
                        // A client's own upstream session: its logs are that client's.
                        if (only.WantsLog(severity))
                        {
                            only.Post(log);
                        }

                        break;
                    }

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

    void IUpstreamEvents.OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner)
    {
        using (message)
        {
            var envelope = message.Envelope;

            // Whose request it is: a client's own upstream session's (per_session) is that client's; a shared one's,
            // sent outside of any call's stream, is the one client all calls in flight on it are for, if there is
            // exactly one (servers that call elicitInput or createMessage in a tool handler without linking it to the
            // call send it that way). With calls of several clients in flight it stays nobody's: a guess could show
            // one client's prompt to another.
            var client = owner as DownstreamSession ?? session.SoleCaller as DownstreamSession;
            if (client is not null && !client.IsClosed && Answers(client.Capabilities, envelope.Method))
            {
                // Relayed over the client's GET stream, with a gateway id; its answer comes back by POST.
                var gatewayId = client.NextServerRequestId();
                client.ServerRequests[gatewayId] = new PendingServerRequest(session, envelope.Id.Slice(message.Span).ToArray(), Call: null);
                Span<byte> digits = stackalloc byte[20];
                System.Buffers.Text.Utf8Formatter.TryFormat(gatewayId, digits, out var length);
                scoped var rewriter = new MessageRewriter();
                rewriter.Replace(envelope.Id, digits[..length]);
                var request = new ArrayBufferWriter<byte>(message.Length + 8);
                rewriter.WriteTo(message.Span, request);
                client.Post(request.WrittenSpan.ToArray());
                return;
            }

            var writer = new ArrayBufferWriter<byte>(128);
            if (envelope.Method == McpMethod.Ping)
            {
                JsonRpcWriter.WriteResult(writer, envelope.Id.Slice(message.Span), "{}"u8);
            }
            else if (client is not null && !client.IsClosed)
            {
                JsonRpcWriter.WriteError(writer, envelope.Id.Slice(message.Span), JsonRpcErrorCode.MethodNotFound,
                    "The client this request is for did not declare the capability it needs");
            }
            else
            {
                // Sampling, elicitation or roots need a client; with no call in flight, or calls of several clients,
                // there is no one certain to ask.
                JsonRpcWriter.WriteError(writer, envelope.Id.Slice(message.Span), JsonRpcErrorCode.MethodNotFound,
                    "The gateway relays a server-to-client request only when it is certain which client it is for (a call of exactly one client in flight)");
            }

            _ = session.SendAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
        }
    }

    /// <summary>Whether a client with these capabilities can answer a server-to-client request of this method.</summary>
    private static bool Answers(ClientCapabilities capabilities, McpMethod method) => method switch
    {
        McpMethod.SamplingCreateMessage => capabilities.Sampling,
        McpMethod.ElicitationCreate => capabilities.ElicitationForm || capabilities.ElicitationUrl,
        McpMethod.RootsList => capabilities.Roots,
        _ => false,
    };

    /// <summary>A background re-read found a different list: same as if the server had announced it.</summary>
    private void OnListRefreshed(ServerListCache cache)
    {
        Log.ListRefreshed(_logger, cache.Server.Name, CatalogKinds.ResultProperty(cache.Kind));
        Notify(cache.Server, cache.Kind);
    }

    /// <summary>
    /// The server announced changes: its lists of these kinds are read again, and only one that differs is rebuilt
    /// and announced to clients (<see cref="OnListRefreshed"/>), once per profile.
    /// </summary>
    private void ListsChanged(UpstreamServer server, params ReadOnlySpan<CatalogKind> kinds)
    {
        foreach (var kind in kinds)
        {
            _listCaches[(server, kind)].Announced();
        }
    }

    /// <summary>Rebuilds the catalogs of this kind that use the server's list, and tells their sessions, once per profile.</summary>
    private void Notify(UpstreamServer server, CatalogKind kind)
    {
        var cache = _listCaches[(server, kind)];
        var notification = JsonRpcWriter.Notification(McpMethods.NameOf(CatalogKinds.ListChangedNotification(kind)));
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

    /// <summary>A subscribed resource changed: each subscriber gets the URI as its profile names it.</summary>
    private void ResourceUpdated(UpstreamServer server, UpstreamMessage message, DownstreamSession? owner)
    {
        var envelope = message.Envelope;
        var uri = JsonString.Decode(envelope.Uri.Slice(message.Span));
        byte[]? bare = null, prefixed = null;
        foreach (var subscriber in Subscriptions.SubscribersOf(server, uri))
        {
            if (owner is not null && !ReferenceEquals(subscriber, owner))
            {
                continue; // from a client's own upstream session: only that client subscribed there
            }

            if (subscriber.Profile.Model.Naming == ToolNaming.Prefixed)
            {
                if (prefixed is null)
                {
                    var rewriter = new MessageRewriter();
                    var prefix = Encoding.UTF8.GetBytes(server.Name + ResourceUris.Separator);
                    rewriter.Insert(envelope.Uri.Start + 1, prefix);
                    var buffer = new ArrayBufferWriter<byte>(message.Length + prefix.Length);
                    rewriter.WriteTo(message.Span, buffer);
                    prefixed = buffer.WrittenSpan.ToArray();
                }

                subscriber.Post(prefixed);
            }
            else
            {
                subscriber.Post(bare ??= message.Span.ToArray());
            }
        }
    }

    internal Task SubscribeUpstreamAsync(UpstreamServer server, string uri) => SendSubscriptionAsync(server, s_subscribe, uri);

    internal Task UnsubscribeUpstreamAsync(UpstreamServer server, string uri) => SendSubscriptionAsync(server, s_unsubscribe, uri);

    private Task SendSubscriptionAsync(UpstreamServer server, byte[] method, string uri)
        => server.CurrentSession is { } upstream ? SendSubscriptionAsync(upstream, server, method, uri) : Task.CompletedTask;

    private async Task SendSubscriptionAsync(UpstreamSession upstream, UpstreamServer server, byte[] method, string uri)
    {
        try
        {
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


    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.CatalogInvalidated, LogLevel.Information, "Profile '{Profile}': the {Kind} of server '{Server}' changed; clients are told")]
        public static partial void CatalogInvalidated(ILogger logger, string profile, string kind, string server);

        [LoggerMessage(Observability.EventIds.CatalogRefreshed, LogLevel.Information, "Upstream '{Server}' lists different {Kind} than before (re-read after a restart, a failure or list_refresh)")]
        public static partial void ListRefreshed(ILogger logger, string server, string kind);

        [LoggerMessage(Observability.EventIds.UnattributedMessage, LogLevel.Debug, "Upstream '{Server}' sent {Method} outside of a call; nothing to relay it to")]
        public static partial void Unattributed(ILogger logger, string server, string method);
    }
}
