using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary><c>DELETE /v1/mcp/{profile}</c>: the client ends its session. Later requests with its id get 404.</summary>
internal sealed class McpDeleteHandler
{
    private readonly GatewayHost _host;

    public McpDeleteHandler(GatewayHost host)
    {
        _host = host;
    }

    public Task HandleAsync(HttpContext context)
    {
        var runtime = _host.Current;
        var (session, error) = SessionRequest.Resolve(context, runtime);
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
