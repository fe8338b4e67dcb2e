using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Archestra.Edge.Hosting;

/// <summary>
/// <c>GET /v1/profiles/{profile}/connect</c>: ready-to-paste client configuration for a profile (text, or JSON with
/// <c>?format=json</c> or <c>Accept: application/json</c>). It is guarded like the profile itself: with <c>auth:</c>
/// on, only a credential that may use the profile gets it.
/// </summary>
internal static class ConnectEndpoints
{
    public static void MapConnect(this IEndpointRouteBuilder app)
        => app.MapGet("/v1/profiles/{profile}/connect", (RequestDelegate)ConnectAsync);

    private static async Task ConnectAsync(HttpContext context)
    {
        var runtime = context.RequestServices.GetRequiredService<GatewayHost>().Current;
        var name = (string)context.Request.RouteValues["profile"]!;
        if (!runtime.Profiles.TryGetValue(name, out var profile))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"no profile '{name}'\n").ConfigureAwait(false);
            return;
        }

        var auth = await runtime.Authenticator.AuthenticateAsync(context, profile.Model).ConfigureAwait(false);
        if (auth.Outcome != Identity.AuthOutcome.Ok)
        {
            await ResponseWriter.WriteAuthChallengeAsync(context, auth, SessionRequest.ResourceMetadataUrl(runtime, context, profile), default).ConfigureAwait(false);
            return;
        }

        var baseUrl = runtime.Authenticator.BaseUrl(context.Request);
        var settings = runtime.Authenticator.Settings;
        context.Response.Headers.CacheControl = "no-store";
        if (WantsJson(context.Request))
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(ConnectInstructions.RenderJson(baseUrl, name, settings)).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(ConnectInstructions.RenderText(baseUrl, name, settings)).ConfigureAwait(false);
    }

    private static bool WantsJson(HttpRequest request)
        => request.Query["format"] == "json"
            || request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);
}
