using Archestra.Edge.Gateway.Sessions;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>The checks shared by GET and DELETE, which always act on an existing session.</summary>
internal static class SessionRequest
{
    public static (DownstreamSession? Session, GatewayError Error) Resolve(McpRequest request)
    {
        var (context, runtime, profile) = request;
        var error = RequestGuard.CheckHostAndOrigin(context.Request, runtime.Snapshot.Listener.Hosts);
        if (error.Kind != GatewayErrorKind.None)
        {
            return (null, error);
        }

        if (profile is null)
        {
            return (null, new GatewayError(GatewayErrorKind.UnknownProfile, "Not Found: no such profile"));
        }

        error = RequestGuard.CheckProtocolVersion(context.Request);
        DownstreamSession? session = null;
        if (error.Kind == GatewayErrorKind.None)
        {
            error = RequestGuard.ResolveSession(context.Request, runtime, profile, out session);
        }

        if (error.Kind == GatewayErrorKind.None)
        {
            session!.Touch();
        }

        return (session, error);
    }
}
