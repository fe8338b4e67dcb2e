using System.Buffers;

namespace Archestra.Edge.Protocol.Framing;

/// <summary>Newline-delimited JSON (the stdio transport): one message per line, LF or CRLF.</summary>
public static class LineFraming
{
    /// <summary>Takes one complete line off the front of <paramref name="buffer"/>, without its terminator.</summary>
    public static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        long scanned = 0;
        return TryReadLine(ref buffer, ref scanned, out line);
    }

    /// <summary>
    /// Takes one complete line off the front of <paramref name="buffer"/>, searching only past the
    /// <paramref name="scanned"/> bytes already known to hold no line feed. On failure <paramref name="scanned"/>
    /// becomes the buffer's length, so a reader that keeps the partial line (AdvanceTo(start, end)) and calls again
    /// with more data looks at each byte once: a long line costs linear time, not quadratic.
    /// </summary>
    public static bool TryReadLine(ref ReadOnlySequence<byte> buffer, ref long scanned, out ReadOnlySequence<byte> line)
    {
        var start = scanned < buffer.Length ? scanned : buffer.Length;
        var position = buffer.Slice(start).PositionOf((byte)'\n');
        if (position is not { } end)
        {
            scanned = buffer.Length;
            line = default;
            return false;
        }

        scanned = 0;
        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        if (!line.IsEmpty && EndsWithCarriageReturn(line))
        {
            line = line.Slice(0, line.Length - 1);
        }

        return true;
    }

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return line.FirstSpan[^1] == (byte)'\r';
        }

        return line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r';
    }
}
