using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting.Admin;

/// <summary>
/// Who may use the admin API: with <c>auth:</c> configured, an organisation-scoped bearer token; without, local
/// (loopback) clients only.
/// </summary>
internal static class AdminAccess
{
    /// <summary>
    /// Whether the caller may use the admin API (or, with <paramref name="openWithoutAuth"/>, a read-only endpoint
    /// such as <c>/metrics</c> that anyone who can reach an unauthenticated gateway may read); if not, the refusal
    /// has been written.
    /// </summary>
    public static async Task<bool> AllowedAsync(HttpContext context, GatewayRuntime runtime, bool openWithoutAuth = false)
    {
        if (!runtime.Authenticator.Enabled)
        {
            if (openWithoutAuth || (context.Connection.RemoteIpAddress is { } address && System.Net.IPAddress.IsLoopback(address)))
            {
                return true;
            }

            await RefuseAsync(context, StatusCodes.Status403Forbidden, "the admin API answers local clients only (configure auth: to use it remotely with an organisation token)").ConfigureAwait(false);
            return false;
        }

        var result = runtime.Authenticator.CheckBearer(context.Request);
        if (result.Outcome != AuthOutcome.Ok || result.Principal is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "an organisation-scoped archestra_ token is required").ConfigureAwait(false);
            return false;
        }

        if (result.Principal.Kind != PrincipalKind.Org)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, $"{result.Principal.Name} is not an organisation token").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    public static Task RefuseAsync(HttpContext context, int status, string message)
        => JsonResponse.WriteAsync(context, status, new AdminError(message), EdgeJsonContext.Relaxed.AdminError);
}
