using System.Buffers;
using Archestra.Edge.Protocol.Buffers;

namespace Archestra.Edge.Protocol.Framing;

/// <summary>
/// An incremental text/event-stream parser (the WHATWG algorithm, minus the browser parts). Feed it the
/// bytes read so far; it returns complete events and leaves a partial one buffered in itself.
/// Line endings may be LF, CRLF or CR, and may be split across reads.
/// </summary>
public sealed class SseParser : IDisposable
{
    private readonly PooledBufferWriter _data = new();
    private readonly PooledBufferWriter _eventType = new(16);
    private readonly PooledBufferWriter _id = new(16);
    private readonly PooledBufferWriter _line = new();
    private bool _hasField;
    private bool _hasData;
    private bool _hasId;
    private int _retry = -1;
    private bool _skipLeadingLineFeed;
    private bool _pendingReset;

    /// <summary>
    /// The largest event accepted; a larger one is a protocol error (the stream is abandoned). A single line, complete
    /// or not, is bounded by the same figure plus a little for its field name: a line that never ends costs no more.
    /// </summary>
    public int MaxEventBytes { get; init; } = 64 * 1024 * 1024;

    private long MaxLineBytes => MaxEventBytes + 64L;

    /// <summary>
    /// Consumes lines from <paramref name="buffer"/> until an event is complete. Returns false when more input is
    /// needed; <paramref name="buffer"/> is then fully consumed (a partial line is kept internally).
    /// </summary>
    public bool TryReadEvent(ref ReadOnlySequence<byte> buffer, out SseEvent sseEvent)
    {
        if (_pendingReset)
        {
            ResetEvent();
        }

        while (TryReadLine(ref buffer, out var line))
        {
            if (line.IsEmpty)
            {
                if (!_hasField)
                {
                    continue;
                }

                sseEvent = new SseEvent(_eventType.WrittenMemory, _id.WrittenMemory, _data.WrittenMemory, _hasId, _retry);
                _pendingReset = true;
                return true;
            }

            ProcessLine(line);
        }

        sseEvent = default;
        return false;
    }

    public void Dispose()
    {
        _data.Dispose();
        _eventType.Dispose();
        _id.Dispose();
        _line.Dispose();
    }

    private void ResetEvent()
    {
        _pendingReset = false;
        _data.Reset();
        _eventType.Reset();
        _id.Reset();
        _hasField = false;
        _hasData = false;
        _hasId = false;
        _retry = -1;
    }

    private bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySpan<byte> line)
    {
        if (_skipLeadingLineFeed && !buffer.IsEmpty)
        {
            _skipLeadingLineFeed = false;
            if (buffer.FirstSpan[0] == (byte)'\n')
            {
                buffer = buffer.Slice(1);
            }
        }

        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false))
        {
            var content = buffer.Slice(0, reader.Position);
            reader.TryRead(out var terminator);
            if (terminator == (byte)'\r')
            {
                if (reader.End)
                {
                    _skipLeadingLineFeed = true;
                }
                else if (reader.TryPeek(out var next) && next == (byte)'\n')
                {
                    reader.Advance(1);
                }
            }

            buffer = buffer.Slice(reader.Position);
            CheckLineLength(content.Length);
            if (_line.WrittenCount == 0 && content.IsSingleSegment)
            {
                line = content.FirstSpan;
            }
            else
            {
                Append(_line, content);
                line = _line.WrittenSpan;
            }

            return true;
        }

        // No terminator yet: keep the partial line, up to the bound.
        CheckLineLength(buffer.Length);
        Append(_line, buffer);
        buffer = buffer.Slice(buffer.End);
        line = default;
        return false;
    }

    private void CheckLineLength(long adding)
    {
        if (_line.WrittenCount + adding > MaxLineBytes)
        {
            _line.Reset();
            throw new InvalidDataException($"An SSE line exceeded {MaxEventBytes} bytes.");
        }
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        try
        {
            if (line[0] == (byte)':')
            {
                return; // comment
            }

            var colon = line.IndexOf((byte)':');
            ReadOnlySpan<byte> field;
            ReadOnlySpan<byte> value;
            if (colon < 0)
            {
                field = line;
                value = default;
            }
            else
            {
                field = line[..colon];
                value = line[(colon + 1)..];
                if (!value.IsEmpty && value[0] == (byte)' ')
                {
                    value = value[1..];
                }
            }

            if (field.SequenceEqual("data"u8))
            {
                if (_hasData)
                {
                    _data.Write("\n"u8);
                }

                if (_data.WrittenCount + value.Length > MaxEventBytes)
                {
                    throw new InvalidDataException($"An SSE event exceeded {MaxEventBytes} bytes.");
                }

                _data.Write(value);
                _hasData = true;
                _hasField = true;
            }
            else if (field.SequenceEqual("event"u8))
            {
                _eventType.Reset();
                _eventType.Write(value);
                _hasField = true;
            }
            else if (field.SequenceEqual("id"u8))
            {
                if (value.IndexOf((byte)0) < 0)
                {
                    _id.Reset();
                    _id.Write(value);
                    _hasId = true;
                    _hasField = true;
                }
            }
            else if (field.SequenceEqual("retry"u8))
            {
                if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var retry))
                {
                    _retry = retry;
                    _hasField = true;
                }
            }
        }
        finally
        {
            _line.Reset();
        }
    }

    private static void Append(PooledBufferWriter writer, in ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            writer.Write(segment.Span);
        }
    }
}
