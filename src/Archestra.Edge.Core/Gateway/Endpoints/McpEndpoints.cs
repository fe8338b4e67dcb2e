using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>Maps the MCP endpoint of every profile: <c>/v1/mcp/{profile}</c> with POST, GET and DELETE.</summary>
internal static class McpEndpoints
{
    public const string Pattern = "/v1/mcp/{profile}";

    public static IEndpointRouteBuilder MapMcpEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        var post = services.GetRequiredService<McpPostHandler>();
        var stream = services.GetRequiredService<McpStreamHandler>();
        var delete = services.GetRequiredService<McpDeleteHandler>();

        // RequestDelegate overloads: no parameter binding, no generated code, AOT-clean.
        endpoints.MapPost(Pattern, (RequestDelegate)post.HandleAsync);
        endpoints.MapGet(Pattern, (RequestDelegate)stream.HandleAsync);
        endpoints.MapDelete(Pattern, (RequestDelegate)delete.HandleAsync);
        endpoints.MapMethods(Pattern, ["PUT", "PATCH", "HEAD", "OPTIONS"], (RequestDelegate)(context =>
            ResponseWriter.WriteErrorAsync(context, new GatewayError(GatewayErrorKind.MethodNotAllowed, "Method Not Allowed"), default)));
        return endpoints;
    }
}
