using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/mcp/{profile}</c>: one JSON-RPC message from a client. Checks run in a fixed order (host and
/// origin, profile, content type, accept, size, JSON-RPC shape, session, protocol version), then the message
/// is answered here (initialize, ping, lists, setLevel) or relayed to the upstream that owns it.
/// </summary>
internal sealed partial class McpPostHandler
{
    private readonly CallRelay _relay;
    private readonly Stateless.RequestStates _states;
    private readonly ILogger _logger;

    public McpPostHandler(CallRelay relay, Stateless.RequestStates states, ILogger<McpPostHandler> logger)
    {
        _relay = relay;
        _states = states;
        _logger = logger;
    }

    public async Task HandleAsync(McpRequest request)
    {
        var (context, runtime, profile, metrics) = request;
        var error = RequestGuard.CheckHostAndOrigin(context.Request, runtime.Snapshot.Listener.Hosts);
        if (error.Kind != GatewayErrorKind.None)
        {
            await RejectAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (profile is null)
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.UnknownProfile, "Not Found: no such profile")).ConfigureAwait(false);
            return;
        }

        var auth = await runtime.Authenticator.AuthenticateAsync(context, profile.Model).ConfigureAwait(false);
        if (auth.Outcome != Identity.AuthOutcome.Ok)
        {
            await ResponseWriter.WriteAuthChallengeAsync(context, auth, SessionRequest.ResourceMetadataUrl(runtime, context, profile), default, metrics).ConfigureAwait(false);
            return;
        }

        if (!RequestGuard.IsJsonContent(context.Request))
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.UnsupportedMediaType, "Unsupported Media Type: Content-Type must be application/json")).ConfigureAwait(false);
            return;
        }

        if (!RequestGuard.AcceptsJsonAndEventStream(context.Request))
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.NotAcceptable, "Not Acceptable: Client must accept both application/json and text/event-stream")).ConfigureAwait(false);
            return;
        }

        var (body, readError) = await RequestBody.ReadAsync(context, runtime.Snapshot.Limits.MaxRequestBytes).ConfigureAwait(false);
        if (readError.Kind != GatewayErrorKind.None)
        {
            await RejectAsync(context, readError).ConfigureAwait(false);
            return;
        }

        try
        {
            var envelope = EnvelopeReader.Read(body.Span);
            await DispatchAsync(context, runtime, profile, auth.Principal!, body, envelope).ConfigureAwait(false);
        }
        finally
        {
            body.Release();
        }
    }

    /// <summary>Not async: the hot path awaits only in <see cref="HandleAsync"/> and in the relay.</summary>
    private Task DispatchAsync(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, JsonRpcEnvelope envelope)
    {
        switch (envelope.Kind)
        {
            case JsonRpcMessageKind.Invalid:
                return RejectAsync(context, InvalidMessage(envelope), IdOf(body, envelope));
            // A request another instance forwarded (a sealed hop) was counted where the balancer sent it.
            case JsonRpcMessageKind.Request when !(runtime.Fleet.InFleet && Fleet.FleetHop.IsSealed(runtime.Fleet, context.Request, runtime.TimeProvider.GetUtcNow()))
                && runtime.RateLimits.CheckRequest(context, profile, caller) is { Kind: not GatewayErrorKind.None } limited:
                return RejectAsync(context, limited, IdOf(body, envelope));
        }

        // 2026-07-28: the era is chosen per request; a stateless request never touches the session table.
        if (Stateless.ModernEra.Claims(context.Request, envelope, body.Span))
        {
            return ModernAsync(context, runtime, profile, caller, body, envelope);
        }

        if (envelope.Kind == JsonRpcMessageKind.Request && envelope.Method == McpMethod.Initialize)
        {
            return InitializeAsync(context, runtime, profile, caller, body, envelope);
        }

        // A session of another instance of the fleet: its owner answers.
        if (Fleet.SessionOwner.OtherOwner(context.Request, runtime) is { } owner)
        {
            return ForwardAsync(context, runtime, owner, body, envelope);
        }

        var error = RequestGuard.CheckProtocolVersion(context.Request);
        DownstreamSession? session = null;
        if (error.Kind == GatewayErrorKind.None)
        {
            error = RequestGuard.ResolveSession(context.Request, runtime, profile, caller, out session);
        }

        if (error.Kind != GatewayErrorKind.None)
        {
            return RejectAsync(context, error, IdOf(body, envelope));
        }

        session!.Touch();
        switch (envelope.Kind)
        {
            case JsonRpcMessageKind.Batch when ProtocolVersions.AllowsBatches(session.ProtocolVersion):
                return HandleBatchAsync(context, runtime, session, body);
            case JsonRpcMessageKind.Batch:
                return RejectAsync(context, new GatewayError(GatewayErrorKind.BatchNotSupported,
                    $"Invalid Request: JSON-RPC batches are not part of protocol version {session.ProtocolVersion} (only 2025-03-26 had them)"));
            case JsonRpcMessageKind.Request:
                return HandleRequestAsync(context, runtime, session, body, envelope);
            case JsonRpcMessageKind.Notification:
                HandleNotification(session, body, envelope);
                return ResponseWriter.AcceptedAsync(context);
            default:
                return AcceptResponseAsync(context, session, body, envelope);
        }
    }

    private async Task ForwardAsync(HttpContext context, GatewayRuntime runtime, string owner, RequestBody body, JsonRpcEnvelope envelope)
    {
        if (await runtime.Fleet.Forwarder!.ForwardAsync(context, owner, body.Memory).ConfigureAwait(false) == Fleet.ForwardOutcome.OwnerGone)
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.SessionNotFound, "Session not found"), IdOf(body, envelope)).ConfigureAwait(false);
        }
    }

    private static async Task AcceptResponseAsync(HttpContext context, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope)
    {
        await HandleClientResponseAsync(session, body, envelope).ConfigureAwait(false);
        await ResponseWriter.AcceptedAsync(context).ConfigureAwait(false);
    }

    private static GatewayError InvalidMessage(JsonRpcEnvelope envelope) => envelope.Error switch
    {
        EnvelopeError.ParseError => new(GatewayErrorKind.ParseError, "Parse error: the body is not valid JSON"),
        EnvelopeError.NotAnObject => new(GatewayErrorKind.InvalidRequest, "Invalid Request: a JSON-RPC message must be an object"),
        EnvelopeError.MissingVersion => new(GatewayErrorKind.InvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\""),
        EnvelopeError.InvalidId => new(GatewayErrorKind.InvalidRequest, "Invalid Request: the id must be a string or an integer"),
        EnvelopeError.InvalidMethod => new(GatewayErrorKind.InvalidRequest, "Invalid Request: \"method\" must be a string"),
        EnvelopeError.DuplicateKey => new(GatewayErrorKind.InvalidRequest, "Invalid Request: a member appears twice (jsonrpc, id, method, params, or name, uri, arguments, _meta, ref inside params)"),
        _ => new(GatewayErrorKind.InvalidRequest, "Invalid Request: not a request, notification or response"),
    };

    private static ReadOnlySpan<byte> IdOf(RequestBody body, JsonRpcEnvelope envelope)
        => envelope.IdKind is JsonRpcIdKind.Number or JsonRpcIdKind.String ? envelope.Id.Slice(body.Span) : default;

    private Task RejectAsync(HttpContext context, GatewayError error, ReadOnlySpan<byte> id = default)
    {
        Log.Rejected(_logger, context.Request.Path.Value ?? string.Empty, (int)GatewayErrors.Map(error.Kind).Status, error.Message);
        return ResponseWriter.WriteErrorAsync(context, error, id);
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.RequestRejected, LogLevel.Debug, "Rejected a request to {Path} with {Status}: {Reason}")]
        public static partial void Rejected(ILogger logger, string path, int status, string reason);

        [LoggerMessage(Observability.EventIds.SessionCreated, LogLevel.Information, "Session opened on profile '{Profile}' by {Client} (protocol {ProtocolVersion}) for {Principal}")]
        public static partial void SessionCreated(ILogger logger, string profile, string client, string protocolVersion, string principal);

        [LoggerMessage(Observability.EventIds.SessionLimitReached, LogLevel.Warning, "Refused a new session: {Limit} sessions are open (limits.max_sessions)")]
        public static partial void SessionLimitReached(ILogger logger, int limit);
    }
}
