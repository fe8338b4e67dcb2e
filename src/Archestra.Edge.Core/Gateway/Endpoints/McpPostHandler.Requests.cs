using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

internal sealed partial class McpPostHandler
{
    private static readonly byte[] s_emptyResult = "{}"u8.ToArray();
    private static readonly byte[] s_subscribe = "resources/subscribe"u8.ToArray();
    private static readonly byte[] s_unsubscribe = "resources/unsubscribe"u8.ToArray();

    private Task HandleRequestAsync(HttpContext context, GatewayRuntime runtime, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope)
    {
        var profile = session.Profile;
        switch (envelope.Method)
        {
            case McpMethod.Ping:
                return ResponseWriter.WriteResultAsync(context, envelope.Id.Slice(body.Span), s_emptyResult);

            case McpMethod.LoggingSetLevel:
                var level = envelope.Level.IsEmpty ? LogLevels.Unset : LogLevels.Parse(envelope.Level.StringContent(body.Span));
                if (level == LogLevels.Unset)
                {
                    return Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: level must be one of debug, info, notice, warning, error, critical, alert, emergency");
                }

                session.LogLevel = level;
                return ResponseWriter.WriteResultAsync(context, envelope.Id.Slice(body.Span), s_emptyResult);

            case McpMethod.ToolsList:
                return ListAsync(context, body, envelope, profile.Tools);

            case McpMethod.PromptsList when profile.HasPrompts:
                return ListAsync(context, body, envelope, profile.Prompts);

            case McpMethod.ToolsCall:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, profile.Tools, envelope.Name, null));

            case McpMethod.PromptsGet when profile.HasPrompts:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, profile.Prompts, envelope.Name, null));

            case McpMethod.ResourcesList or McpMethod.ResourcesTemplatesList or McpMethod.ResourcesRead when profile.HasResources:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, null, default, profile.ResourceServer));

            case McpMethod.ResourcesSubscribe or McpMethod.ResourcesUnsubscribe when profile.HasResources:
                return SubscriptionAsync(context, runtime, session, body, envelope);

            case McpMethod.CompletionComplete when !envelope.RefName.IsEmpty && profile.HasPrompts:
                // completion/complete routes by its reference: a prompt through the prompt catalog...
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, profile.Prompts, envelope.RefName, null));

            case McpMethod.CompletionComplete when !envelope.RefUri.IsEmpty && profile.HasResources:
                // ...a resource (template) to the resource server.
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, null, default, profile.ResourceServer));

            case McpMethod.CompletionComplete when profile.HasPrompts || profile.HasResources:
                return Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: ref must name a prompt (ref/prompt) or a resource (ref/resource) of this profile");

            default:
                var method = envelope.MethodName.IsEmpty ? string.Empty : System.Text.Encoding.UTF8.GetString(envelope.MethodName.StringContent(body.Span));
                return Fail(context, body, envelope, GatewayErrorKind.MethodNotFound, $"Method not found: {method}");
        }
    }

    private static async Task ListAsync(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, CatalogHolder holder)
    {
        if (!envelope.Cursor.IsEmpty)
        {
            // The gateway returns every item in one page and never hands out cursors, so any cursor is not one of ours.
            await Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: unknown cursor").ConfigureAwait(false);
            return;
        }

        var catalog = await holder.GetAsync().ConfigureAwait(false);
        await ResponseWriter.WriteResultAsync(context, envelope.Id.Slice(body.Span), catalog.ResultJson).ConfigureAwait(false);
    }

    /// <summary>How a relayed request finds its upstream: a catalog name, or a fixed server.</summary>
    private readonly record struct Lookup(ProfileRuntime Profile, RequestBody Body, CatalogHolder? Catalog, JsonRange NameRange, UpstreamServer? Direct);

    private Task RelayAsync(HttpContext context, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope, Lookup lookup)
        => _relay.RunAsync(context, session, body, envelope, lookup, static (lookup, call) => ResolveAsync(lookup, call));

    /// <summary>
    /// <c>tools/call</c>, <c>prompts/get</c> and prompt completions name an exposed item: the catalog says which
    /// server has it and under which name. Everything else goes to a fixed server.
    /// </summary>
    private static async ValueTask<(RelayTarget Target, GatewayError Error)> ResolveAsync(Lookup lookup, RelayCall call)
    {
        if (lookup.Direct is { } direct)
        {
            return (new RelayTarget(direct), default);
        }

        var noun = CatalogKinds.Noun(lookup.Catalog!.Kind);
        if (lookup.NameRange.IsEmpty)
        {
            return (default, new GatewayError(GatewayErrorKind.InvalidParams, $"Invalid params: the {noun} name is missing or not a string"));
        }

        var pending = lookup.Catalog.GetAsync();
        var catalog = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(call.Token).ConfigureAwait(false);
        var nameToken = lookup.NameRange.Slice(lookup.Body.Span);
        if (!CatalogBuilder.TryGetEntry(catalog, nameToken, out var entry))
        {
            return (default, UnknownName(catalog, nameToken, noun, lookup.Profile));
        }

        return (new RelayTarget(entry!.Server, lookup.NameRange, entry.UpstreamNameToken), default);
    }

    /// <summary>
    /// The upstream is subscribed once, for the first session that asks, and unsubscribed when the last one
    /// leaves; updates are fanned out to the subscribed sessions.
    /// </summary>
    private static async Task SubscriptionAsync(HttpContext context, GatewayRuntime runtime, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope)
    {
        if (envelope.Uri.IsEmpty)
        {
            await Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: uri is missing or not a string").ConfigureAwait(false);
            return;
        }

        var server = session.Profile.ResourceServer!;
        var uri = DecodeString(envelope.Uri.Slice(body.Span));
        var subscribe = envelope.Method == McpMethod.ResourcesSubscribe;
        var mustTellUpstream = subscribe ? runtime.Subscriptions.Add(server, uri, session) : runtime.Subscriptions.Remove(server, uri, session);
        var id = envelope.Id.Slice(body.Span).ToArray();
        if (!mustTellUpstream)
        {
            await ResponseWriter.WriteResultAsync(context, id, s_emptyResult).ConfigureAwait(false);
            return;
        }

        using var timeout = new CancellationTokenSource(server.Model.CallTimeout, runtime.TimeProvider);
        var (upstream, error) = await server.GetSessionAsync(timeout.Token).ConfigureAwait(false);
        UpstreamMessage? response = null;
        if (upstream is not null)
        {
            var parameters = body.Memory.Slice(envelope.Params.Start, envelope.Params.Length);
            (response, error) = await upstream.RequestAsync(subscribe ? s_subscribe : s_unsubscribe, parameters, timeout.Token).ConfigureAwait(false);
        }

        using (response)
        {
            if (response is null)
            {
                if (subscribe)
                {
                    runtime.Subscriptions.Remove(server, uri, session);
                }

                await Fail(context, body, envelope, GatewayError.From(error, server.Name)).ConfigureAwait(false);
                return;
            }

            if (subscribe && response.Envelope.Kind == JsonRpcMessageKind.ErrorResponse)
            {
                runtime.Subscriptions.Remove(server, uri, session);
            }

            // The upstream's own answer (result or error), under the client's id.
            var rewriter = new MessageRewriter();
            rewriter.Replace(response.Envelope.Id, id);
            using var output = new PooledBufferWriter(response.Length + id.Length);
            rewriter.WriteTo(response.Span, output);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = output.WrittenCount;
            await context.Response.BodyWriter.WriteAsync(output.WrittenMemory).ConfigureAwait(false);
        }
    }

    private static GatewayError UnknownName(Catalog.Catalog catalog, ReadOnlySpan<byte> nameToken, string noun, ProfileRuntime profile)
    {
        var name = DecodeString(nameToken);
        foreach (var (server, error) in catalog.Failures)
        {
            // A name that would belong to a server that is down: say so, rather than "unknown".
            if (profile.Model.Naming == Configuration.ToolNaming.Bare || name.StartsWith(server + profile.Model.Separator, StringComparison.Ordinal))
            {
                return GatewayError.From(error, server);
            }
        }

        return new GatewayError(noun == "tool" ? GatewayErrorKind.UnknownTool : GatewayErrorKind.UnknownPrompt, $"Unknown {noun}: {name}");
    }

    private static Task Fail(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, GatewayErrorKind kind, string message)
        => Fail(context, body, envelope, new GatewayError(kind, message));

    private static Task Fail(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, GatewayError error)
        => ResponseWriter.WriteErrorAsync(context, error, envelope.Id.Slice(body.Span));

    private static string DecodeString(ReadOnlySpan<byte> token)
    {
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString() ?? string.Empty;
    }
}
