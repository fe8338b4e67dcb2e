using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// Serves the MCP endpoint of every profile, <c>/v1/mcp/{profile}</c>, as one terminal middleware: the profile
/// is found straight from the path (no route matching, no route-value dictionary per request) in the runtime
/// read once for the request. Everything else falls through to the next middleware.
/// </summary>
internal static class McpEndpoints
{
    public const string Prefix = "/v1/mcp/";

    public static IApplicationBuilder UseMcpEndpoints(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var host = services.GetRequiredService<GatewayHost>();
        var post = services.GetRequiredService<McpPostHandler>();
        var metrics = services.GetRequiredService<Observability.GatewayMetrics>();

        return app.Use(next => context =>
        {
            var path = context.Request.Path.Value;
            if (path is null || !path.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return next(context);
            }

            var runtime = host.Current;
            var name = path.AsSpan(Prefix.Length);
            var profile = name.IndexOf('/') < 0 && runtime.ProfileLookup.TryGetValue(name, out var found) ? found : null;
            var request = new McpRequest(context, runtime, profile, metrics);
            var method = context.Request.Method;
            var handling = method switch
            {
                "POST" => post.HandleAsync(request),
                "GET" => McpStreamHandler.HandleAsync(request),
                "DELETE" => McpDeleteHandler.HandleAsync(request),
                _ => ResponseWriter.WriteErrorAsync(context, new GatewayError(GatewayErrorKind.MethodNotAllowed, "Method Not Allowed"), default),
            };
            if (handling.IsCompletedSuccessfully)
            {
                metrics.RecordRequest(MethodLabel(method), context.Response.StatusCode);
                return handling;
            }

            return CountWhenDoneAsync(handling, context, metrics);
        });
    }

    private static async Task CountWhenDoneAsync(Task handling, HttpContext context, Observability.GatewayMetrics metrics)
    {
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            await handling.ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        finally
        {
            metrics.RecordRequest(MethodLabel(context.Request.Method), context.Response.HasStarted ? context.Response.StatusCode : status);
        }
    }

    /// <summary>The method as a label from a fixed set (a client cannot mint new series).</summary>
    private static string MethodLabel(string method) => method switch
    {
        "POST" => "POST",
        "GET" => "GET",
        "DELETE" => "DELETE",
        _ => "other",
    };
}

/// <summary>One request to an MCP endpoint: the runtime it is served by, and its profile (null when unknown).</summary>
/// <param name="Metrics">Where auth failures are counted (null in benchmarks).</param>
internal readonly record struct McpRequest(HttpContext Context, GatewayRuntime Runtime, ProfileRuntime? Profile, Observability.GatewayMetrics? Metrics = null);
