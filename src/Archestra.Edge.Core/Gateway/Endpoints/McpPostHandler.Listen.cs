using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// <c>subscriptions/listen</c> (2026-07-28): the stateless era's replacement of the GET stream and of
/// <c>resources/subscribe</c>. The stream opens with <c>notifications/subscriptions/acknowledged</c> naming what is
/// granted; list changes of the kinds asked for, and updates of the resources asked for, follow, each tagged with the
/// subscription id (the listen request's id). The stream is registered like a session (it counts against
/// <c>limits.max_sessions</c>, follows reloads) and is gone when the client closes it.
/// </summary>
internal sealed partial class McpPostHandler
{
    private async Task ListenAsync(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, JsonRpcEnvelope envelope)
    {
        var id = envelope.Id.Slice(body.Span).ToArray();
        bool tools = false, prompts = false, resources = false;
        var uris = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(body.Memory.Slice(envelope.Params.Start, envelope.Params.Length));
            if (document.RootElement.TryGetProperty("notifications", out var wanted) && wanted.ValueKind == JsonValueKind.Object)
            {
                tools = wanted.TryGetProperty("toolsListChanged", out var t) && t.ValueKind == JsonValueKind.True;
                prompts = profile.HasPrompts && wanted.TryGetProperty("promptsListChanged", out var p) && p.ValueKind == JsonValueKind.True;
                resources = profile.HasResources && wanted.TryGetProperty("resourcesListChanged", out var r) && r.ValueKind == JsonValueKind.True;
                if (profile.HasResources && wanted.TryGetProperty("resourceSubscriptions", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var uri in list.EnumerateArray())
                    {
                        if (uri.ValueKind == JsonValueKind.String && uris.Count < MaxListenUris)
                        {
                            uris.Add(uri.GetString()!);
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.InvalidParams, "Invalid params: notifications must be an object"), id).ConfigureAwait(false);
            return;
        }

        var session = new DownstreamSession(runtime.Sessions.NewId(), profile, ProtocolVersions.V20260728, ClientCapabilities.None, null, null, runtime.TimeProvider)
        {
            ReplayBudget = 0,
            Caller = caller,
            Stateless = true,
            LogLevel = DownstreamSession.NoLogs,
            Listening = new ListenFilter(tools, prompts, resources, id),
        };
        var limit = runtime.Snapshot.Limits.MaxSessions;
        if (!runtime.Sessions.TryAdd(session, limit))
        {
            Log.SessionLimitReached(_logger, limit);
            context.Response.Headers.RetryAfter = "5";
            await RejectAsync(context, new GatewayError(GatewayErrorKind.TooManySessions, $"Too many sessions and listen streams are open ({limit}); retry later"), id).ConfigureAwait(false);
            return;
        }

        session.TryOpenStream(takeOver: false, out var generation, out var streamToken);
        try
        {
            var granted = new List<string>();
            foreach (var uri in uris)
            {
                using var timeout = new CancellationTokenSource(runtime.Snapshot.Limits.CallTimeout, runtime.TimeProvider);
                var (route, error) = await ResourceRouter.ResolveAsync(profile, uri, isTemplate: false, timeout.Token).ConfigureAwait(false);

                // Granted only where the gateway can follow it: a 2025 server that offers subscriptions (a 2026-07-28
                // server's own listen stream is not subscribed to resources yet). The acknowledgement says what was granted.
                if (error.Kind != GatewayErrorKind.None || route.Server.CurrentSession is not { Info.ResourcesSubscribe: true, IsModern: false })
                {
                    continue;
                }

                if (runtime.Subscriptions.Add(route.Server, route.UpstreamUri, session))
                {
                    _ = runtime.SubscribeUpstreamAsync(route.Server, route.UpstreamUri);
                }

                granted.Add(uri);
            }

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache, no-transform";
            response.Headers["X-Accel-Buffering"] = "no";
            WriteEvent(response, Acknowledgement(id, tools, prompts, resources, granted));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Closed, streamToken);
            await response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
            var outbound = session.Outbound;
            while (await outbound.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                while (outbound.TryRead(out var message))
                {
                    if (Tagged(message, session.Listening) is { } tagged)
                    {
                        WriteEvent(response, tagged);
                    }
                }

                await response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The client closed the stream (that is how a listen ends), or the gateway is stopping.
        }
        finally
        {
            session.CloseStream(generation);
            runtime.EndSession(session);
        }
    }

    private const int MaxListenUris = 100;

    private static void WriteEvent(HttpResponse response, ReadOnlySpan<byte> message)
    {
        var rewriter = new MessageRewriter();
        SseFrames.Write(response.BodyWriter, message, ref rewriter, default);
    }

    private static byte[] Acknowledgement(byte[] id, bool tools, bool prompts, bool resources, List<string> uris)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(output, JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WriteString("method", "notifications/subscriptions/acknowledged");
            writer.WriteStartObject("params");
            writer.WriteStartObject("notifications");
            if (tools)
            {
                writer.WriteBoolean("toolsListChanged", true);
            }

            if (prompts)
            {
                writer.WriteBoolean("promptsListChanged", true);
            }

            if (resources)
            {
                writer.WriteBoolean("resourcesListChanged", true);
            }

            if (uris.Count > 0)
            {
                writer.WriteStartArray("resourceSubscriptions");
                foreach (var uri in uris)
                {
                    writer.WriteStringValue(uri);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteStartObject("_meta");
            writer.WritePropertyName("io.modelcontextprotocol/subscriptionId");
            writer.WriteRawValue(id, skipInputValidation: true);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>A notification for a listen stream, tagged with its subscription id; null when the stream did not ask for its kind.</summary>
    private static byte[]? Tagged(byte[] message, ListenFilter? filter)
    {
        var envelope = EnvelopeReader.Read(message);
        var wanted = envelope.Method switch
        {
            McpMethod.NotificationsToolsListChanged => filter?.Tools == true,
            McpMethod.NotificationsPromptsListChanged => filter?.Prompts == true,
            McpMethod.NotificationsResourcesListChanged => filter?.Resources == true,
            McpMethod.NotificationsResourcesUpdated => true, // only subscribers get these
            _ => false,
        };
        if (!wanted || filter is null)
        {
            return null;
        }

        using var tag = new PooledBufferWriter();
        tag.Write("\"io.modelcontextprotocol/subscriptionId\":"u8);
        tag.Write(filter.SubscriptionId);
        var rewriter = new MessageRewriter();
        byte[] text;
        int offset;
        if (envelope.Params.IsEmpty)
        {
            // {"jsonrpc":"2.0","method":"…"} → …,"params":{"_meta":{tag}}}
            offset = message.AsSpan().LastIndexOf((byte)'}');
            text = [.. ",\"params\":{\"_meta\":{"u8, .. tag.WrittenSpan, .. "}}"u8];
        }
        else if (envelope.Meta.IsEmpty)
        {
            offset = envelope.Params.Start + 1;
            text = [.. "\"_meta\":{"u8, .. tag.WrittenSpan, .. (message.AsSpan(offset).TrimStart(" \t\r\n"u8)[0] == (byte)'}' ? "}"u8 : "},"u8)];
        }
        else
        {
            offset = envelope.Meta.Start + 1;
            text = [.. tag.WrittenSpan, .. (message.AsSpan(offset).TrimStart(" \t\r\n"u8)[0] == (byte)'}' ? ""u8 : ","u8)];
        }

        rewriter.Insert(offset, text);
        var output = new ArrayBufferWriter<byte>(message.Length + text.Length);
        rewriter.WriteTo(message, output);
        return output.WrittenSpan.ToArray();
    }
}
