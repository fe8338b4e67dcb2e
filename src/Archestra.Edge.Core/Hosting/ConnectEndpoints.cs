using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Archestra.Edge.Hosting;

/// <summary>
/// <c>GET /v1/profiles/{profile}/connect</c>: ready-to-paste client configuration for a profile (text, or JSON with
/// <c>?format=json</c> or <c>Accept: application/json</c>). It is guarded like the profile itself: with <c>auth:</c>
/// on, only a credential that may use the profile gets it.
/// </summary>
internal sealed class ConnectEndpoints(GatewayHost host, Observability.GatewayMetrics metrics)
{
    public void Map(IEndpointRouteBuilder app)
        => app.MapGet("/v1/profiles/{profile}/connect", (RequestDelegate)ConnectAsync);

    private async Task ConnectAsync(HttpContext context)
    {
        var runtime = host.Current;
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
            await ResponseWriter.WriteAuthChallengeAsync(context, auth, SessionRequest.ResourceMetadataUrl(runtime, context, profile), default, metrics).ConfigureAwait(false);
            return;
        }

        var baseUrl = runtime.Authenticator.BaseUrl(context.Request);
        var settings = runtime.Authenticator.Settings;
        if (WantsJson(context.Request))
        {
            await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, ConnectInstructions.Document(baseUrl, name, settings), EdgeJsonContext.Relaxed.ConnectDocument).ConfigureAwait(false);
            return;
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(ConnectInstructions.RenderText(baseUrl, name, settings)).ConfigureAwait(false);
    }

    private static bool WantsJson(HttpRequest request)
        => request.Query["format"] == "json"
            || request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);
}
