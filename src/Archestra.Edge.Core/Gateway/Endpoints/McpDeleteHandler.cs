using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary><c>DELETE /v1/mcp/{profile}</c>: the client ends its session. Later requests with its id get 404.</summary>
internal static class McpDeleteHandler
{
    public static async Task HandleAsync(McpRequest request)
    {
        var (context, runtime, _, _) = request;
        var (session, error) = await SessionRequest.ResolveAsync(request).ConfigureAwait(false);
        if (error.Kind == GatewayErrorKind.Unauthorized)
        {
            return; // answered with its challenge
        }

        if (error.Kind != GatewayErrorKind.None)
        {
            await ResponseWriter.WriteErrorAsync(context, error, default).ConfigureAwait(false);
            return;
        }

        runtime.EndSession(session!);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
    }
}
