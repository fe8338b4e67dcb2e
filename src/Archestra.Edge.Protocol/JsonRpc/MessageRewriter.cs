using System.Buffers;
using System.Diagnostics;

namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>
/// Copies a JSON message to an output while replacing a few token ranges (the id, a name, a progress token).
/// Everything outside the replaced ranges is copied byte for byte. At most six edits, applied in offset
/// order whatever order they were added in; no allocation.
/// </summary>
public ref struct MessageRewriter
{
    private const int MaxEdits = 6;

    private JsonRange _range0, _range1, _range2, _range3, _range4, _range5;
    private ReadOnlySpan<byte> _value0, _value1, _value2, _value3, _value4, _value5;
    private int _count;

    /// <summary>Replaces <paramref name="range"/> with <paramref name="replacement"/>. Empty ranges are ignored.</summary>
    public void Replace(JsonRange range, ReadOnlySpan<byte> replacement)
    {
        if (range.IsEmpty)
        {
            return;
        }

        switch (_count)
        {
            case 0: _range0 = range; _value0 = replacement; break;
            case 1: _range1 = range; _value1 = replacement; break;
            case 2: _range2 = range; _value2 = replacement; break;
            case 3: _range3 = range; _value3 = replacement; break;
            case 4: _range4 = range; _value4 = replacement; break;
            case 5: _range5 = range; _value5 = replacement; break;
            default: throw new InvalidOperationException($"At most {MaxEdits} edits per message.");
        }

        _count++;
    }

    /// <summary>Inserts <paramref name="text"/> at <paramref name="offset"/> (an empty-length replacement).</summary>
    public void Insert(int offset, ReadOnlySpan<byte> text)
    {
        switch (_count)
        {
            case 0: _range0 = new JsonRange(offset, 0); _value0 = text; break;
            case 1: _range1 = new JsonRange(offset, 0); _value1 = text; break;
            case 2: _range2 = new JsonRange(offset, 0); _value2 = text; break;
            case 3: _range3 = new JsonRange(offset, 0); _value3 = text; break;
            case 4: _range4 = new JsonRange(offset, 0); _value4 = text; break;
            case 5: _range5 = new JsonRange(offset, 0); _value5 = text; break;
            default: throw new InvalidOperationException($"At most {MaxEdits} edits per message.");
        }

        _count++;
    }

    /// <summary>The length of the rewritten message.</summary>
    public readonly int RewrittenLength(int sourceLength)
    {
        var length = sourceLength;
        for (var i = 0; i < _count; i++)
        {
            length += GetValue(i).Length - GetRange(i).Length;
        }

        return length;
    }

    /// <summary>Writes the rewritten message.</summary>
    public readonly void WriteTo(ReadOnlySpan<byte> source, IBufferWriter<byte> output)
    {
        Span<int> order = stackalloc int[MaxEdits];
        for (var i = 0; i < _count; i++)
        {
            order[i] = i;
        }

        // Insertion sort of at most six edits by start offset.
        for (var i = 1; i < _count; i++)
        {
            var current = order[i];
            var j = i - 1;
            while (j >= 0 && GetRange(order[j]).Start > GetRange(current).Start)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }

        var position = 0;
        for (var i = 0; i < _count; i++)
        {
            var range = GetRange(order[i]);
            var value = GetValue(order[i]);
            Debug.Assert(range.Start >= position, "Edits must not overlap.");
            Write(output, source[position..range.Start]);
            Write(output, value);
            position = range.End;
        }

        Write(output, source[position..]);
    }

    private readonly JsonRange GetRange(int index) => index switch
    {
        0 => _range0,
        1 => _range1,
        2 => _range2,
        3 => _range3,
        4 => _range4,
        _ => _range5,
    };

    private readonly ReadOnlySpan<byte> GetValue(int index) => index switch
    {
        0 => _value0,
        1 => _value1,
        2 => _value2,
        3 => _value3,
        4 => _value4,
        _ => _value5,
    };

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            output.Write(bytes);
        }
    }
}
