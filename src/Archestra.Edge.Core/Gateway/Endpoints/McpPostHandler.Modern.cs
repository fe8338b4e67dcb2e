using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Gateway.Stateless;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// 2026-07-28 requests: stateless, beside the sessions of the 2025 revisions on the same endpoint. Each request
/// carries what a session used to hold (protocol version, client capabilities, log level) in its <c>_meta</c>; the
/// gateway answers lists and <c>server/discover</c> itself and relays the rest with a context made for the request.
/// </summary>
internal sealed partial class McpPostHandler
{
    private Task ModernAsync(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, JsonRpcEnvelope envelope)
    {
        switch (envelope.Kind)
        {
            case JsonRpcMessageKind.Batch:
                return RejectAsync(context, new GatewayError(GatewayErrorKind.InvalidRequest, "Invalid Request: a 2026-07-28 POST carries exactly one request"));
            case JsonRpcMessageKind.Notification:
                // Nothing to attach a notification to without a session; closing a response stream is the cancel.
                return ResponseWriter.AcceptedAsync(context);
            case JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse:
                return RejectAsync(context, new GatewayError(GatewayErrorKind.InvalidRequest,
                    "Invalid Request: a 2026-07-28 POST must not carry a response (answers to input requests travel as inputResponses in the retried request)"), IdOf(body, envelope));
        }

        var error = ModernEra.Check(context.Request, envelope, body.Span);
        if (error.Kind != GatewayErrorKind.None)
        {
            return RejectAsync(context, error, IdOf(body, envelope));
        }

        var authenticated = runtime.Authenticator.Enabled;
        switch (envelope.Method)
        {
            case McpMethod.ServerDiscover:
                return ResponseWriter.WriteResultAsync(context, envelope.Id.Slice(body.Span), ModernResults.Discover(profile, authenticated));

            case McpMethod.ToolsList:
                return ListAsync(context, runtime, body, envelope, profile.Tools, authenticated);

            case McpMethod.PromptsList when profile.HasPrompts:
                return ListAsync(context, runtime, body, envelope, profile.Prompts, authenticated);

            case McpMethod.ResourcesList when profile.HasResources:
                return ListAsync(context, runtime, body, envelope, profile.Resources, authenticated);

            case McpMethod.ResourcesTemplatesList when profile.HasResources:
                return ListAsync(context, runtime, body, envelope, profile.ResourceTemplates, authenticated);

            case McpMethod.ToolsCall:
            case McpMethod.PromptsGet when profile.HasPrompts:
            case McpMethod.ResourcesRead when profile.HasResources:
            case McpMethod.CompletionComplete when profile.HasPrompts || profile.HasResources:
                return ModernRelayAsync(context, runtime, profile, caller, body, envelope);

            case McpMethod.SubscriptionsListen:
                return ListenAsync(context, runtime, profile, caller, body, envelope);

            default:
                var method = envelope.MethodName.IsEmpty ? string.Empty : System.Text.Encoding.UTF8.GetString(envelope.MethodName.StringContent(body.Span));
                return RejectAsync(context, new GatewayError(GatewayErrorKind.ModernMethodNotFound, envelope.Method is McpMethod.Initialize or McpMethod.Ping or McpMethod.LoggingSetLevel or McpMethod.ResourcesSubscribe or McpMethod.ResourcesUnsubscribe
                    ? $"Method not found: {method} is not part of protocol version 2026-07-28"
                    : $"Method not found: {method}"), IdOf(body, envelope));
        }
    }

    /// <summary>The context of one 2026-07-28 request: what a session holds, taken from the request's <c>_meta</c>.</summary>
    private static DownstreamSession StatelessContext(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, in JsonRpcEnvelope envelope, string id = "")
    {
        var level = ModernEra.LogLevel(envelope, body.Span);
        return new DownstreamSession(id, profile, ProtocolVersions.V20260728, ModernEra.Capabilities(envelope, body.Span), null, null, runtime.TimeProvider)
        {
            RequestHeaders = context.Request.Headers,
            ReplayBudget = 0,
            Caller = caller,
            Stateless = true,
            LogLevel = level == LogLevels.Unset ? DownstreamSession.NoLogs : level,
        };
    }

    /// <remarks>Not async on the common path: the request's context is closed when its relay completes, without a state machine of its own.</remarks>
    private Task ModernRelayAsync(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, JsonRpcEnvelope envelope)
    {
        RequestState? state = null;
        if (!envelope.RequestState.IsEmpty)
        {
            // A retry after an InputRequiredResult: the state must be the gateway's, intact, unused, and this caller's here.
            (state, var refused) = _states.Open(envelope.RequestState.StringContent(body.Span), profile.Name, caller.Name);
            if (state is null)
            {
                return Fail(context, body, envelope, GatewayErrorKind.InvalidRequestState, $"Invalid params: {refused}");
            }

            if (state.Parked != 0 && state.Owner is { } owner && owner != _states.Instance && runtime.Fleet.Forwarder is { } forwarder)
            {
                // The call waits on the instance that parked it: the answers go there, sealed as a hop.
                return ForwardParkedAsync(context, forwarder, owner, body, envelope);
            }

            if (state.Parked != 0)
            {
                // The answers to what a 2025 server asked during this call, which waits for them.
                return _relay.ResumeAsync(context, body, envelope, state);
            }
        }

        var session = StatelessContext(context, runtime, profile, caller, body, envelope);
        Task relayed;
        try
        {
            relayed = HandleRequestAsync(context, runtime, session, body, envelope, state);
        }
        catch
        {
            session.Close();
            throw;
        }

        if (relayed.IsCompletedSuccessfully)
        {
            EndContext(session);
            return Task.CompletedTask;
        }

        return EndContextAsync(relayed, session);
    }

    private static async Task ForwardParkedAsync(HttpContext context, Fleet.FleetForwarder forwarder, string owner, RequestBody body, JsonRpcEnvelope envelope)
    {
        if (await forwarder.ForwardAsync(context, owner, body.Memory).ConfigureAwait(false) == Fleet.ForwardOutcome.OwnerGone)
        {
            await Fail(context, body, envelope, GatewayErrorKind.InvalidRequestState,
                "Invalid params: the call waiting for these answers ended with the instance that held it; make the request again without requestState").ConfigureAwait(false);
        }
    }

    private static async Task EndContextAsync(Task relayed, DownstreamSession session)
    {
        try
        {
            await relayed.ConfigureAwait(false);
        }
        finally
        {
            EndContext(session);
        }
    }

    /// <summary>
    /// Releases what the request alone used (a per_session server's private replica), unless its call waits for the
    /// client's answers: then the parked call closes it.
    /// </summary>
    private static void EndContext(DownstreamSession session)
    {
        if (!session.Parked)
        {
            session.Close();
        }
    }
}
