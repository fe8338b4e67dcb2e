using System.Buffers;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>How the gateway frames JSON-RPC messages as SSE events, for POST answers and the GET stream alike.</summary>
internal static class SseFrames
{
    /// <summary>The reconnection delay sent with priming events: a client that lost a stream comes back after this.</summary>
    public const int RetryMilliseconds = 1000;

    /// <summary>Marks a request context that answers one element of a batch (its events are re-framed by the batch).</summary>
    public const string BatchPartKey = "archestra.batch-part";

    /// <summary>Writes <c>event: message</c>, the id if any, and the message (spliced by <paramref name="rewriter"/>) as data.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> source, ref MessageRewriter rewriter, scoped ReadOnlySpan<byte> id)
    {
        if (source.IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            // The common case: splice directly between the frame's prefix and suffix.
            output.Write("event: message\n"u8);
            if (!id.IsEmpty)
            {
                output.Write("id: "u8);
                output.Write(id);
                output.Write("\n"u8);
            }

            output.Write("data: "u8);
            rewriter.WriteTo(source, output);
            output.Write("\n\n"u8);
            return;
        }

        // Pretty-printed JSON: splice first, then frame it line by line.
        using var spliced = new PooledBufferWriter(source.Length);
        rewriter.WriteTo(source, spliced);
        SseWriter.WriteMessage(output, spliced.WrittenSpan, id);
    }

    /// <summary>
    /// Frames a message as an event of a resumable stream: it gets the next id of <paramref name="stream"/>, goes
    /// to <paramref name="output"/>, and a copy of the frame is kept in the session's replay log.
    /// </summary>
    public static void WriteReplayable(IBufferWriter<byte> output, SessionReplay replay, int stream, ReadOnlySpan<byte> source, ref MessageRewriter rewriter)
    {
        var sequence = replay.NextSequence(stream);
        Span<byte> id = stackalloc byte[32];
        var idLength = SessionReplay.FormatEventId(stream, sequence, id);
        using var frame = new PooledBufferWriter(source.Length + 64);
        Write(frame, source, ref rewriter, id[..idLength]);
        output.Write(frame.WrittenSpan);
        replay.Append(stream, sequence, frame.WrittenSpan.ToArray());
    }
}
