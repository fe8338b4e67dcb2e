using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary><c>DELETE /v1/mcp/{profile}</c>: the client ends its session. Later requests with its id get 404.</summary>
internal static class McpDeleteHandler
{
    public static Task HandleAsync(McpRequest request)
    {
        var (context, runtime, _) = request;
        var (session, error) = SessionRequest.Resolve(request);
        if (error.Kind != GatewayErrorKind.None)
        {
            return ResponseWriter.WriteErrorAsync(context, error, default);
        }

        runtime.EndSession(session!);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
