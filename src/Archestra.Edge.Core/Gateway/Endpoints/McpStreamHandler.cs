using System.Buffers;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/mcp/{profile}</c>: the session's server-to-client stream. It carries what is not part of any call
/// (list changes, resource updates, server logs). One stream per session at a time (a second gets 409). With
/// <c>Last-Event-ID</c> it resumes a lost stream: the GET stream itself (taking over from a connection the gateway
/// has not yet seen die), or the event stream of a POST, whose missed events are replayed and whose remaining
/// events (up to its response) follow.
/// </summary>
internal static class McpStreamHandler
{
    public static async Task HandleAsync(McpRequest request)
    {
        var context = request.Context;
        var (session, error) = await SessionRequest.ResolveAsync(request).ConfigureAwait(false);
        if (error.Kind == GatewayErrorKind.Unauthorized)
        {
            return; // answered with its challenge
        }

        if (error.Kind == GatewayErrorKind.None && !RequestGuard.AcceptsEventStream(context.Request))
        {
            error = new(GatewayErrorKind.NotAcceptable, "Not Acceptable: Client must accept text/event-stream");
        }

        if (error.Kind != GatewayErrorKind.None)
        {
            await ResponseWriter.WriteErrorAsync(context, error, default).ConfigureAwait(false);
            return;
        }

        var resumeFrom = ResumePoint(context.Request, session!);
        if (resumeFrom is { Stream: not SessionReplay.StandaloneStream } point)
        {
            await ResumePostStreamAsync(context, session!, point.Stream, point.Sequence).ConfigureAwait(false);
            return;
        }

        if (!session!.TryOpenStream(takeOver: resumeFrom is not null, out var generation, out var streamToken))
        {
            await ResponseWriter.WriteErrorAsync(context, new(GatewayErrorKind.StreamConflict, "Conflict: only one GET stream per session is allowed"), default).ConfigureAwait(false);
            return;
        }

        try
        {
            StartEventStream(context.Response);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Closed, streamToken);
            var resumable = session.ReplayBudget > 0;
            if (resumeFrom is { } standalone)
            {
                // Events written to the connection that died, which the client never got.
                await ReplayAsync(context, session, SessionReplay.StandaloneStream, standalone.Sequence, untilComplete: false, stop.Token).ConfigureAwait(false);
            }
            else if (resumable && session.TakesPrimingEvents)
            {
                Span<byte> id = stackalloc byte[32];
                var length = SessionReplay.FormatEventId(SessionReplay.StandaloneStream, session.Replay.NextSequence(SessionReplay.StandaloneStream), id);
                SseWriter.WritePriming(context.Response.BodyWriter, id[..length], SseFrames.RetryMilliseconds);
            }

            await context.Response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
            var outbound = session.Outbound;
            while (await outbound.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                while (outbound.TryRead(out var message))
                {
                    WriteMessage(context.Response, session, message, resumable);
                }

                await context.Response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away, the session ended, or a resumed stream took over.
        }
        finally
        {
            session.CloseStream(generation);
        }
    }

    /// <summary>Where a <c>Last-Event-ID</c> of this session points, if it names a stream the session still knows.</summary>
    private static (int Stream, long Sequence)? ResumePoint(HttpRequest request, DownstreamSession session)
    {
        var header = request.Headers[McpHeaders.LastEventId].ToString();
        if (header.Length == 0 || session.ReplayBudget <= 0
            || !SessionReplay.TryParseEventId(header, out var stream, out var sequence) || !session.Replay.Knows(stream))
        {
            return null;
        }

        return (stream, sequence);
    }

    private static async Task ResumePostStreamAsync(HttpContext context, DownstreamSession session, int stream, long sequence)
    {
        try
        {
            StartEventStream(context.Response);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Closed);
            await ReplayAsync(context, session, stream, sequence, untilComplete: true, stop.Token).ConfigureAwait(false);
            await context.Response.BodyWriter.FlushAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes a stream's kept events after <paramref name="after"/>; for a POST stream, waits for the rest until its response.</summary>
    private static async Task ReplayAsync(HttpContext context, DownstreamSession session, int stream, long after, bool untilComplete, CancellationToken cancellationToken)
    {
        var frames = new List<(long Sequence, byte[] Frame)>();
        while (true)
        {
            frames.Clear();
            session.Replay.ReadAfter(stream, after, frames, out var completed, out var gap, out var changed);
            if (gap)
            {
                // Some events were dropped for space (limits.replay_buffer_bytes): say so rather than pretend.
                SseWriter.WriteComment(context.Response.BodyWriter, "some events of this stream were dropped (replay buffer full)"u8);
            }

            foreach (var (sequence, frame) in frames)
            {
                context.Response.BodyWriter.Write(frame);
                after = sequence;
            }

            await context.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (!untilComplete || (completed && frames.Count == 0))
            {
                return;
            }

            if (changed is not null)
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void WriteMessage(HttpResponse response, DownstreamSession session, byte[] message, bool resumable)
    {
        var rewriter = new MessageRewriter();
        if (!resumable)
        {
            SseFrames.Write(response.BodyWriter, message, ref rewriter, default);
            return;
        }

        SseFrames.WriteReplayable(response.BodyWriter, session.Replay, SessionReplay.StandaloneStream, message, ref rewriter);
    }

    private static void StartEventStream(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
    }
}
