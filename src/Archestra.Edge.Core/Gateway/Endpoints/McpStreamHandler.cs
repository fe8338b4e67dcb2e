using Archestra.Edge.Protocol.Framing;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/mcp/{profile}</c>: the session's server-to-client stream. It carries what is not part of any
/// call (list changes, resource updates, server logs). One stream per session at a time (a second gets 409).
/// </summary>
internal static class McpStreamHandler
{
    public static async Task HandleAsync(McpRequest request)
    {
        var context = request.Context;
        var (session, error) = SessionRequest.Resolve(request);
        if (error.Kind == GatewayErrorKind.None && !RequestGuard.AcceptsEventStream(context.Request))
        {
            error = new(GatewayErrorKind.NotAcceptable, "Not Acceptable: Client must accept text/event-stream");
        }

        if (error.Kind == GatewayErrorKind.None && !session!.TryOpenStream())
        {
            error = new(GatewayErrorKind.StreamConflict, "Conflict: only one GET stream per session is allowed");
        }

        if (error.Kind != GatewayErrorKind.None)
        {
            await ResponseWriter.WriteErrorAsync(context, error, default).ConfigureAwait(false);
            return;
        }

        try
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache, no-transform";
            response.Headers["X-Accel-Buffering"] = "no";
            await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session!.Closed);
            var outbound = session.Outbound;
            while (await outbound.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                while (outbound.TryRead(out var message))
                {
                    SseWriter.WriteMessage(response.BodyWriter, message);
                }

                await response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the session ended.
        }
        finally
        {
            session!.CloseStream();
        }
    }
}
