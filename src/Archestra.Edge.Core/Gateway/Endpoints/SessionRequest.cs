using Archestra.Edge.Gateway.Sessions;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>The checks shared by GET and DELETE, which always act on an existing session.</summary>
internal static class SessionRequest
{
    /// <summary>
    /// Host and origin, profile, credential, protocol version, session. When this returns
    /// <see cref="GatewayErrorKind.Unauthorized"/> the request was answered already: a refused credential with its
    /// challenge (401/403), or another instance's session by its owner, to which it was forwarded.
    /// </summary>
    public static async ValueTask<(DownstreamSession? Session, GatewayError Error)> ResolveAsync(McpRequest request)
    {
        var (context, runtime, profile, metrics) = request;
        var error = RequestGuard.CheckHostAndOrigin(context.Request, runtime.Snapshot.Listener.Hosts);
        if (error.Kind != GatewayErrorKind.None)
        {
            return (null, error);
        }

        if (profile is null)
        {
            return (null, new GatewayError(GatewayErrorKind.UnknownProfile, "Not Found: no such profile"));
        }

        var auth = await runtime.Authenticator.AuthenticateAsync(context, profile.Model).ConfigureAwait(false);
        if (auth.Outcome != Identity.AuthOutcome.Ok)
        {
            await ResponseWriter.WriteAuthChallengeAsync(context, auth, ResourceMetadataUrl(runtime, context, profile), default, metrics).ConfigureAwait(false);
            return (null, new GatewayError(GatewayErrorKind.Unauthorized, "answered"));
        }

        if (Fleet.SessionOwner.OtherOwner(context.Request, runtime) is { } owner)
        {
            var outcome = await runtime.Fleet.Forwarder!.ForwardAsync(context, owner, default).ConfigureAwait(false);
            return outcome == Fleet.ForwardOutcome.Answered
                ? (null, new GatewayError(GatewayErrorKind.Unauthorized, "answered"))
                : (null, new GatewayError(GatewayErrorKind.SessionNotFound, "Session not found"));
        }

        error = RequestGuard.CheckProtocolVersion(context.Request);
        DownstreamSession? session = null;
        if (error.Kind == GatewayErrorKind.None)
        {
            error = RequestGuard.ResolveSession(context.Request, runtime, profile, auth.Principal!, out session);
        }

        if (error.Kind == GatewayErrorKind.None)
        {
            session!.Touch();
        }

        return (session, error);
    }

    /// <summary>Where a client finds how to get a token for this profile (RFC 9728).</summary>
    public static string ResourceMetadataUrl(GatewayRuntime runtime, HttpContext context, ProfileRuntime profile)
        => $"{runtime.Authenticator.BaseUrl(context.Request)}/.well-known/oauth-protected-resource/v1/mcp/{profile.Name}";
}
