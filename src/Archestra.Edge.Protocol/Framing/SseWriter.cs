using System.Buffers;

namespace Archestra.Edge.Protocol.Framing;

/// <summary>Writes Server-Sent Events frames (text/event-stream) for JSON-RPC messages.</summary>
public static class SseWriter
{
    /// <summary>
    /// Writes <c>event: message</c>, an optional <c>id</c>, and the JSON as <c>data</c>. JSON that contains raw
    /// line breaks (pretty-printed by some upstream) is split over several <c>data:</c> lines, which a reader
    /// joins back with <c>\n</c>, so the bytes survive unchanged.
    /// </summary>
    public static void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventId = default)
    {
        output.Write("event: message\n"u8);
        if (!eventId.IsEmpty)
        {
            output.Write("id: "u8);
            output.Write(eventId);
            output.Write("\n"u8);
        }

        WriteData(output, json);
        output.Write("\n"u8);
    }

    /// <summary>Writes an event with an id and empty data, optionally with a reconnection delay (SEP-1699 priming).</summary>
    public static void WritePriming(IBufferWriter<byte> output, ReadOnlySpan<byte> eventId, int retryMilliseconds = -1)
    {
        output.Write("id: "u8);
        output.Write(eventId);
        output.Write("\n"u8);
        if (retryMilliseconds >= 0)
        {
            WriteRetryField(output, retryMilliseconds);
        }

        output.Write("data: \n\n"u8);
    }

    /// <summary>Writes a bare <c>retry:</c> field, telling the client how long to wait before reconnecting.</summary>
    public static void WriteRetry(IBufferWriter<byte> output, int retryMilliseconds)
    {
        WriteRetryField(output, retryMilliseconds);
        output.Write("\n"u8);
    }

    /// <summary>Writes a comment line; readers ignore it. Used as a keep-alive.</summary>
    public static void WriteComment(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        output.Write(": "u8);
        output.Write(text);
        output.Write("\n\n"u8);
    }

    private static void WriteRetryField(IBufferWriter<byte> output, int retryMilliseconds)
    {
        output.Write("retry: "u8);
        var span = output.GetSpan(11);
        retryMilliseconds.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
        output.Write("\n"u8);
    }

    private static void WriteData(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            output.Write("data: "u8);
            var lineEnd = data.IndexOfAny((byte)'\r', (byte)'\n');
            if (lineEnd < 0)
            {
                output.Write(data);
                output.Write("\n"u8);
                return;
            }

            output.Write(data[..lineEnd]);
            output.Write("\n"u8);
            var skip = data[lineEnd] == '\r' && lineEnd + 1 < data.Length && data[lineEnd + 1] == '\n' ? 2 : 1;
            data = data[(lineEnd + skip)..];
        }
    }
}
