using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting;

/// <summary>
/// The first middleware of every request, whatever its path:
/// <list type="bullet">
/// <item>the Host and Origin policy of <c>/v1/mcp</c> (DNS-rebinding and browser-origin protection) applied to every
/// other endpoint too: admin, metrics, health, connect and OAuth. A request naming a host this gateway does not
/// serve gets 403 before any handler runs. (The MCP endpoints check the same policy themselves, inside their
/// metrics, so their hot path pays for it once.)</item>
/// <item>the last line against an unhandled exception: it is logged with its stack trace, and the client gets the
/// protocol's error (JSON-RPC -32603 on an MCP endpoint, an OAuth-style JSON error elsewhere), never a bare 500 or
/// a stack trace. Each known failure has its own answer where it happens; this catches what nobody foresaw.</item>
/// </list>
/// </summary>
internal static partial class EdgeGuard
{
    public static IApplicationBuilder UseEdgeGuard(this IApplicationBuilder app)
    {
        var host = app.ApplicationServices.GetRequiredService<GatewayHost>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Hosting");
        return app.Use(next => context =>
        {
            Task handling;
            try
            {
                var path = context.Request.Path.Value;
                if (path is null || !path.StartsWith(McpEndpoints.Prefix, StringComparison.Ordinal))
                {
                    var refused = RequestGuard.CheckHostAndOrigin(context.Request, host.Current.Snapshot.Listener.Hosts);
                    if (refused.Kind != GatewayErrorKind.None)
                    {
                        Log.HostRefused(logger, context.Request.Path.Value ?? "/", refused.Message);
                        return WriteJsonErrorAsync(context, StatusCodes.Status403Forbidden, "forbidden", refused.Message);
                    }
                }

                handling = next(context);
            }
            catch (Exception ex) when (ex is not BadHttpRequestException)
            {
                return FailAsync(context, ex, logger);
            }

            return handling.IsCompletedSuccessfully ? handling : AwaitAsync(handling, context, logger);
        });
    }

    private static async Task AwaitAsync(Task handling, HttpContext context, ILogger logger)
    {
        try
        {
            await handling.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not BadHttpRequestException)
        {
            // Kestrel's own (a slow or oversized body: 408, 413, 400) propagate to Kestrel, which answers with its status.
            await FailAsync(context, ex, logger).ConfigureAwait(false);
        }
    }

    private static Task FailAsync(HttpContext context, Exception exception, ILogger logger)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask; // the client went away: nobody to answer
        }

        Log.Unhandled(logger, context.Request.Method, context.Request.Path.Value ?? "/", exception);
        if (context.Response.HasStarted)
        {
            // Part of an answer is out: the only honest thing left is to cut the connection.
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        if (context.Request.Path.StartsWithSegments("/v1/mcp", StringComparison.Ordinal))
        {
            return ResponseWriter.WriteErrorAsync(context, new GatewayError(GatewayErrorKind.InternalError, "Internal error"), "null"u8);
        }

        return WriteJsonErrorAsync(context, StatusCodes.Status500InternalServerError, "server_error", "the gateway could not handle this request");
    }

    private static Task WriteJsonErrorAsync(HttpContext context, int status, string error, string description)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("error", error);
            writer.WriteString("error_description", description);
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.UnhandledException, LogLevel.Error, "Unhandled exception in {Method} {Path}; the client got an error response")]
        public static partial void Unhandled(ILogger logger, string method, string path, Exception exception);

        [LoggerMessage(Observability.EventIds.HostRefused, LogLevel.Debug, "Refused {Path}: {Reason}")]
        public static partial void HostRefused(ILogger logger, string path, string reason);
    }
}
