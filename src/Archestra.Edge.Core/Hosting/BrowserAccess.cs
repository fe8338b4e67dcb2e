using Archestra.Edge.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Archestra.Edge.Hosting;

/// <summary>
/// CORS, for MCP clients that run in a browser page (an inspector, a web agent). A request from an allowed Origin
/// (<c>server.allowed_origins</c>, or any origin on an allowed host, such as a page on localhost) gets the headers
/// that let the page read the answer and the session id, and its preflight is answered here. Any other origin gets
/// no CORS headers (its preflight a 403, and the MCP endpoints refuse it too), so the browser keeps the page out.
/// Bearer tokens travel in <c>Authorization</c>, never in cookies, so credentials are not allowed.
/// </summary>
internal static class BrowserAccess
{
    private const string AllowedMethods = "GET, POST, DELETE, OPTIONS";
    private const string AllowedHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, traceparent, tracestate";
    private const string ExposedHeaders = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After";
    private const string PreflightMaxAge = "600";

    public static IApplicationBuilder UseBrowserAccess(this IApplicationBuilder app)
    {
        var host = app.ApplicationServices.GetRequiredService<GatewayHost>();
        return app.Use(next => context =>
        {
            // Agents that are not browsers send no Origin: their requests pay for this one header lookup.
            var origin = context.Request.Headers.Origin;
            if (StringValues.IsNullOrEmpty(origin))
            {
                return next(context);
            }

            var allowed = host.Current.Snapshot.Listener.Hosts.IsOriginAllowed(origin.ToString());
            var request = context.Request.Headers;
            var response = context.Response.Headers;
            if (HttpMethods.IsOptions(context.Request.Method) && !StringValues.IsNullOrEmpty(request.AccessControlRequestMethod))
            {
                context.Response.StatusCode = allowed ? StatusCodes.Status204NoContent : StatusCodes.Status403Forbidden;
                response.Vary = "Origin";
                if (allowed)
                {
                    response.AccessControlAllowOrigin = origin;
                    response.AccessControlAllowMethods = AllowedMethods;
                    response.AccessControlAllowHeaders = StringValues.IsNullOrEmpty(request.AccessControlRequestHeaders)
                        ? AllowedHeaders
                        : request.AccessControlRequestHeaders;
                    response.AccessControlMaxAge = PreflightMaxAge;

                    // Chromium's Private Network Access: a public page may reach this gateway only if it says so.
                    if (request.TryGetValue("Access-Control-Request-Private-Network", out var privateNetwork) && privateNetwork == "true")
                    {
                        response["Access-Control-Allow-Private-Network"] = "true";
                    }
                }

                return Task.CompletedTask;
            }

            if (allowed)
            {
                response.AccessControlAllowOrigin = origin;
                response.AccessControlExposeHeaders = ExposedHeaders;
                response.Vary = "Origin";
            }

            return next(context);
        });
    }
}
