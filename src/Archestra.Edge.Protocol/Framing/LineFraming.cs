using System.Buffers;

namespace Archestra.Edge.Protocol.Framing;

/// <summary>Newline-delimited JSON (the stdio transport): one message per line, LF or CRLF.</summary>
public static class LineFraming
{
    /// <summary>Takes one complete line off the front of <paramref name="buffer"/>, without its terminator.</summary>
    public static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out line, (byte)'\n', advancePastDelimiter: true))
        {
            line = default;
            return false;
        }

        buffer = buffer.Slice(reader.Position);
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
