using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
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

    /// <summary>
    /// <c>logging/setLevel</c>: the session's filter, and the upstreams it reaches asked for at least that level (many
    /// servers send no logs until asked), answered once they took it or after a short wait.
    /// </summary>
    private static async Task SetLevelAsync(HttpContext context, GatewayRuntime runtime, DownstreamSession session, byte[] rawId)
    {
        await runtime.OnClientLogLevelAsync(session).ConfigureAwait(false);
        await ResponseWriter.WriteResultAsync(context, rawId, s_emptyResult).ConfigureAwait(false);
    }

    private Task HandleRequestAsync(HttpContext context, GatewayRuntime runtime, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope, Stateless.RequestState? state = null)
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
                return SetLevelAsync(context, runtime, session, envelope.Id.Slice(body.Span).ToArray());

            case McpMethod.ToolsList:
                return ListAsync(context, runtime, body, envelope, profile.Tools);

            case McpMethod.PromptsList when profile.HasPrompts:
                return ListAsync(context, runtime, body, envelope, profile.Prompts);

            case McpMethod.ResourcesList when profile.HasResources:
                return ListAsync(context, runtime, body, envelope, profile.Resources);

            case McpMethod.ResourcesTemplatesList when profile.HasResources:
                return ListAsync(context, runtime, body, envelope, profile.ResourceTemplates);

            case McpMethod.ToolsCall:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, LookupKind.Tool, envelope.Name, envelope.Arguments) { Rates = runtime.RateLimits, State = state, StateRange = envelope.RequestState, Caller = session.Caller });

            case McpMethod.PromptsGet when profile.HasPrompts:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, LookupKind.Prompt, envelope.Name, default) { State = state, StateRange = envelope.RequestState });

            case McpMethod.ResourcesRead when profile.HasResources:
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, LookupKind.Resource, envelope.Uri, default) { State = state, StateRange = envelope.RequestState });

            case McpMethod.ResourcesSubscribe or McpMethod.ResourcesUnsubscribe when profile.HasResources:
                return SubscriptionAsync(context, runtime, session, body, envelope);

            case McpMethod.CompletionComplete when !envelope.RefName.IsEmpty && profile.HasPrompts:
                // completion/complete routes by its reference: a prompt through the prompt catalog...
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, LookupKind.Prompt, envelope.RefName, default));

            case McpMethod.CompletionComplete when !envelope.RefUri.IsEmpty && profile.HasResources:
                // ...a resource template to the server that owns it.
                return RelayAsync(context, session, body, envelope, new Lookup(profile, body, LookupKind.ResourceTemplate, envelope.RefUri, default));

            case McpMethod.CompletionComplete when profile.HasPrompts || profile.HasResources:
                return Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: ref must name a prompt (ref/prompt) or a resource (ref/resource) of this profile");

            default:
                var method = envelope.MethodName.IsEmpty ? string.Empty : System.Text.Encoding.UTF8.GetString(envelope.MethodName.StringContent(body.Span));
                return Fail(context, body, envelope, GatewayErrorKind.MethodNotFound, $"Method not found: {method}");
        }
    }

    /// <summary>
    /// A list from the profile's catalog: all of it, or a page when <c>limits.list_page_size</c> is set. Cursors are
    /// the gateway's own (upstream cursors are followed when the catalog is built and never reach clients); a cursor
    /// of a list that changed since is refused, so a client never gets a page that skips or repeats items.
    /// </summary>
    /// <remarks>
    /// For a 2026-07-28 request (<paramref name="modernAuthenticated"/> set) the result also carries <c>resultType</c>
    /// and caching hints honest about the live catalog: a complete catalog may be kept briefly, one still missing a
    /// server's list not at all.
    /// </remarks>
    private static async Task ListAsync(HttpContext context, GatewayRuntime runtime, RequestBody body, JsonRpcEnvelope envelope, CatalogHolder holder, bool? modernAuthenticated = null)
    {
        var catalog = await holder.GetAsync().ConfigureAwait(false);
        var members = modernAuthenticated is { } authenticated
            ? Stateless.ModernResults.ListMembers(catalog.IsComplete ? Stateless.ModernResults.ListTtlMilliseconds : 0, authenticated)
            : null;
        var pageSize = runtime.Snapshot.Limits.ListPageSize;
        var start = 0;
        if (!envelope.Cursor.IsEmpty)
        {
            if (!ListCursor.TryParse(envelope.Cursor.StringContent(body.Span), out var fingerprint, out start) || fingerprint != catalog.Fingerprint || start > catalog.Count)
            {
                await Fail(context, body, envelope, GatewayErrorKind.InvalidParams, "Invalid params: unknown or expired cursor (the list may have changed); list again without a cursor").ConfigureAwait(false);
                return;
            }
        }

        var id = envelope.Id.Slice(body.Span);
        if (start == 0 && (pageSize == 0 || catalog.Count <= pageSize))
        {
            await ResponseWriter.WriteResultAsync(context, id, members is null ? catalog.ResultJson : catalog.ModernResultJson ??= Stateless.ModernResults.Decorate(catalog.ResultJson, members)).ConfigureAwait(false);
            return;
        }

        var count = pageSize == 0 ? catalog.Count - start : Math.Min(pageSize, catalog.Count - start);
        Span<byte> cursor = stackalloc byte[ListCursor.MaxLength];
        var cursorLength = start + count < catalog.Count ? ListCursor.Format(catalog.Fingerprint, start + count, cursor) : 0;
        using var page = new PooledBufferWriter();
        catalog.WritePage(page, start, count, cursor[..cursorLength]);
        await ResponseWriter.WriteResultAsync(context, id, members is null ? page.WrittenSpan : Stateless.ModernResults.Decorate(page.WrittenSpan, members)).ConfigureAwait(false);
    }

    private enum LookupKind
    {
        Tool,
        Prompt,
        Resource,
        ResourceTemplate,
    }

    /// <summary>How a relayed request finds its upstream: a name in a catalog, or a resource URI (or template).</summary>
    private readonly record struct Lookup(ProfileRuntime Profile, RequestBody Body, LookupKind Kind, JsonRange Range, JsonRange Arguments)
    {
        /// <summary>The per-tool rate limit to take a call from (tools only).</summary>
        public Limits.RateLimits? Rates { get; init; }

        /// <summary>Who calls (tools only: per-tool access and policies judge by it).</summary>
        public Identity.Principal? Caller { get; init; }

        /// <summary>A 2026-07-28 retry's opened <c>requestState</c>, and where it is in the request.</summary>
        public Stateless.RequestState? State { get; init; }

        public JsonRange StateRange { get; init; }

        /// <summary>The target with the retry's state handed back to the server it came from; an error when the state is another server's.</summary>
        public (RelayTarget Target, GatewayError Error) WithState(RelayTarget target)
        {
            if (State is not { } state)
            {
                return (target, default);
            }

            if (state.Server != target.Server.Name)
            {
                return (default, new GatewayError(GatewayErrorKind.InvalidRequestState, "Invalid params: the requestState belongs to a request to another server"));
            }

            return (target with { RequestState = StateRange, UpstreamRequestState = state.UpstreamState is { } own ? JsonRpcWriter.StringToken(own) : null, Approval = state.Approval }, default);
        }
    }

    private Task RelayAsync(HttpContext context, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope, Lookup lookup)
        => _relay.RunAsync(context, session, body, envelope, lookup, static (lookup, call) => ResolveAsync(lookup, call));

    /// <summary>
    /// <c>tools/call</c>, <c>prompts/get</c> and prompt completions name an exposed item: the catalog says which
    /// server has it and under which name. Resource reads and template completions route by URI.
    /// </summary>
    private static async ValueTask<(RelayTarget Target, GatewayError Error)> ResolveAsync(Lookup lookup, RelayCall call)
    {
        if (lookup.Kind is LookupKind.Resource or LookupKind.ResourceTemplate)
        {
            return await ResolveUriAsync(lookup, call).ConfigureAwait(false);
        }

        var holder = lookup.Kind == LookupKind.Tool ? lookup.Profile.Tools : lookup.Profile.Prompts;
        var noun = CatalogKinds.Noun(holder.Kind);
        if (lookup.Range.IsEmpty)
        {
            return (default, new GatewayError(GatewayErrorKind.InvalidParams, $"Invalid params: the {noun} name is missing or not a string"));
        }

        var pending = holder.GetAsync();
        CatalogEntry? entry;
        if (pending.IsCompletedSuccessfully)
        {
            var ready = pending.Result;
            if (!CatalogBuilder.TryGetEntry(ready, lookup.Range.Slice(lookup.Body.Span), out entry))
            {
                return await ResolveUnlistedAsync(lookup, call, holder, ready, noun).ConfigureAwait(false);
            }
        }
        else if (!holder.TryGetEarly(lookup.Range.Slice(lookup.Body.Span), out entry))
        {
            // A slow member server holds the catalog up, and the name is not among the ready servers' items.
            call.WaitingFor = holder.DescribePending();
            var built = await pending.AsTask().WaitAsync(call.Token).ConfigureAwait(false);
            call.WaitingFor = null;
            if (!CatalogBuilder.TryGetEntry(built, lookup.Range.Slice(lookup.Body.Span), out entry))
            {
                return await ResolveUnlistedAsync(lookup, call, holder, built, noun).ConfigureAwait(false);
            }
        }

        return Admit(lookup, entry!);
    }

    /// <summary>Not listed: perhaps its server's list failed. This call (only this one) waits for that server once more.</summary>
    private static async ValueTask<(RelayTarget Target, GatewayError Error)> ResolveUnlistedAsync(Lookup lookup, RelayCall call, CatalogHolder holder, Catalog.Catalog catalog, string noun)
    {
        var name = JsonString.Decode(lookup.Range.Slice(lookup.Body.Span));
        if (catalog.Withheld.TryGetValue(name, out var withheld))
        {
            return Withheld(lookup, withheld, noun);
        }

        var failed = holder.FailedServersFor(catalog, name);
        if (failed.Count == 0 || !await holder.RetryAsync(failed, call.Token).ConfigureAwait(false))
        {
            return (default, NotListed(failed, noun, name));
        }

        catalog = await holder.GetAsync().AsTask().WaitAsync(call.Token).ConfigureAwait(false);
        if (!CatalogBuilder.TryGetEntry(catalog, lookup.Range.Slice(lookup.Body.Span), out var entry))
        {
            return (default, NotListed(holder.FailedServersFor(catalog, name), noun, name));
        }

        return Admit(lookup, entry!);
    }

    private static (RelayTarget Target, GatewayError Error) Admit(Lookup lookup, CatalogEntry entry)
    {
        if (lookup.Rates?.PerTool is not null && lookup.Rates.CheckTool(lookup.Profile.Name, entry.Server.Name, entry.UpstreamName) is { Kind: not GatewayErrorKind.None } limited)
        {
            return (default, limited);
        }

        if (entry.Fixed is not null && !FixedArgumentWriter.Accepts(lookup.Arguments.IsEmpty ? default : lookup.Arguments.Slice(lookup.Body.Span)))
        {
            return (default, new GatewayError(GatewayErrorKind.InvalidParams, "Invalid params: arguments must be an object"));
        }

        var target = new RelayTarget(entry.Server, lookup.Range, entry.UpstreamNameToken) { Fixed = entry.Fixed, Arguments = lookup.Arguments, ItemName = entry.UpstreamName };
        if (lookup.Caller is { } caller)
        {
            var verdict = Judge(lookup, entry, caller);
            target = target with { Verdict = verdict };
            if (verdict.Decision == Model.PolicyDecision.Deny)
            {
                // The target goes back with the error: the audit trail names the server and tool that were refused.
                return (target, new GatewayError(GatewayErrorKind.PolicyDenied, Policies.PolicyMessages.Denied(verdict.Rule!, entry.Server.Name, entry.UpstreamName)));
            }
        }

        return lookup.WithState(target);
    }

    /// <summary>
    /// An item pinning withholds (its definition no longer matches the lock file): a tool call gets a tool error the
    /// model can read, counted and audited as a pinning denial; a prompt, an invalid-params error.
    /// </summary>
    private static (RelayTarget Target, GatewayError Error) Withheld(Lookup lookup, WithheldItem item, string noun)
    {
        var message = $"Blocked: {item.Server}'s {noun} '{item.UpstreamName}' is {item.What}; an operator must review it and accept it with archestra-edge pin --update";
        if (lookup.Kind != LookupKind.Tool)
        {
            return (default, new GatewayError(GatewayErrorKind.InvalidParams, message));
        }

        var server = lookup.Profile.Servers.First(s => s.Name == item.Server);
        var target = new RelayTarget(server, lookup.Range, []) { ItemName = item.UpstreamName, Verdict = new Policies.PolicyVerdict(Model.PolicyDecision.Deny, Pinning.PinReporter.Rule) };
        return (target, new GatewayError(GatewayErrorKind.PolicyDenied, message));
    }

    /// <summary>Per-tool access (users/teams on the tool's assignment), then the profile's rules.</summary>
    private static Policies.PolicyVerdict Judge(Lookup lookup, CatalogEntry entry, Identity.Principal caller)
    {
        if (entry.Assignment.Access is { } access && !access.Allows(caller))
        {
            return new Policies.PolicyVerdict(Model.PolicyDecision.Deny, access.Rule);
        }

        var policies = lookup.Profile.Policies;
        return policies.IsEmpty
            ? default
            : policies.Decide(entry.Server.Name, entry.UpstreamName, caller, lookup.Arguments.IsEmpty ? default : lookup.Body.Memory.Slice(lookup.Arguments.Start, lookup.Arguments.Length));
    }

    private static async ValueTask<(RelayTarget Target, GatewayError Error)> ResolveUriAsync(Lookup lookup, RelayCall call)
    {
        if (lookup.Range.IsEmpty)
        {
            return (default, new GatewayError(GatewayErrorKind.InvalidParams, "Invalid params: uri is missing or not a string"));
        }

        var exposed = JsonString.Decode(lookup.Range.Slice(lookup.Body.Span));
        var (route, error) = await ResourceRouter.ResolveAsync(lookup.Profile, exposed, lookup.Kind == LookupKind.ResourceTemplate, call.Token).ConfigureAwait(false);
        if (error.Kind != GatewayErrorKind.None)
        {
            return (default, error);
        }

        var target = route.Prefixed
            ? new RelayTarget(route.Server, lookup.Range, JsonRpcWriter.StringToken(route.UpstreamUri))
            : new RelayTarget(route.Server);
        return lookup.WithState(target with { ResultUriPrefix = route.Prefixed && lookup.Kind == LookupKind.Resource ? route.Server.Name : null });
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

        var id = envelope.Id.Slice(body.Span).ToArray();
        using var timeout = new CancellationTokenSource(runtime.Snapshot.Limits.CallTimeout, runtime.TimeProvider);
        var exposed = JsonString.Decode(envelope.Uri.Slice(body.Span));
        var (route, routeError) = await ResourceRouter.ResolveAsync(session.Profile, exposed, isTemplate: false, timeout.Token).ConfigureAwait(false);
        if (routeError.Kind != GatewayErrorKind.None)
        {
            await ResponseWriter.WriteErrorAsync(context, routeError, id).ConfigureAwait(false);
            return;
        }

        var server = route.Server;
        var uri = route.UpstreamUri;
        var subscribe = envelope.Method == McpMethod.ResourcesSubscribe;
        var changed = subscribe ? runtime.Subscriptions.Add(server, uri, session) : runtime.Subscriptions.Remove(server, uri, session);

        // A shared upstream session is subscribed once for every client; a client's own (per_session) one, always.
        var mustTellUpstream = changed || server.Model.Sharing == ServerSharing.PerSession;
        if (!mustTellUpstream)
        {
            await ResponseWriter.WriteResultAsync(context, id, s_emptyResult).ConfigureAwait(false);
            return;
        }

        var (upstream, error) = await session.UpstreamFor(server, timeout.Token).ConfigureAwait(false);
        UpstreamMessage? response = null;
        if (upstream is not null)
        {
            var parameters = new ArrayBufferWriter<byte>();
            parameters.Write("{\"uri\":"u8);
            JsonRpcWriter.WriteString(parameters, uri);
            parameters.Write("}"u8);
            (response, error) = await upstream.RequestAsync(subscribe ? s_subscribe : s_unsubscribe, parameters.WrittenMemory, timeout.Token).ConfigureAwait(false);
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

    /// <summary>A name no catalog entry has: its server is down (say so, rather than "unknown"), or it is unknown.</summary>
    private static GatewayError NotListed(List<(string Server, UpstreamError Error)> failed, string noun, string name)
        => failed.Count > 0
            ? GatewayError.From(failed[0].Error, failed[0].Server)
            : new GatewayError(noun == "tool" ? GatewayErrorKind.UnknownTool : GatewayErrorKind.UnknownPrompt, $"Unknown {noun}: {name}");

    private static Task Fail(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, GatewayErrorKind kind, string message)
        => Fail(context, body, envelope, new GatewayError(kind, message));

    private static Task Fail(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, GatewayError error)
        => ResponseWriter.WriteErrorAsync(context, error, envelope.Id.Slice(body.Span));

}
