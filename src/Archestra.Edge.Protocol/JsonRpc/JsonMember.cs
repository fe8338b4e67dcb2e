namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>Byte ranges of whole object members, for splicing a member out of a message without re-serializing it.</summary>
public static class JsonMember
{
    /// <summary>
    /// The range that removes the member whose value is at <paramref name="value"/>: from its name's opening quote to
    /// the end of the value, with the comma that follows it (or, for the last member, the one before it).
    /// </summary>
    public static JsonRange Removal(ReadOnlySpan<byte> message, JsonRange value) => Extend(message, NameStart(message, value), value.End);

    /// <summary>
    /// The ranges that remove two members of one object (by their values' ranges): one range when they are neighbours
    /// (so they do not both take the comma between them), else one each. The second is empty when merged.
    /// </summary>
    public static (JsonRange First, JsonRange Second) Removal(ReadOnlySpan<byte> message, JsonRange a, JsonRange b)
    {
        if (a.Start > b.Start)
        {
            (a, b) = (b, a);
        }

        var gap = message[a.End..NameStart(message, b)];
        if (gap.Trim(" \t\r\n,"u8).IsEmpty)
        {
            return (Extend(message, NameStart(message, a), b.End), default);
        }

        return (Removal(message, a), Removal(message, b));
    }

    /// <summary>Where the member whose value is at <paramref name="value"/> begins: its name's opening quote.</summary>
    private static int NameStart(ReadOnlySpan<byte> message, JsonRange value)
    {
        // Back over ':' and whitespace to the name's closing quote, then to its opening quote (names here have no escapes).
        var i = value.Start - 1;
        while (i > 0 && message[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)':')
        {
            i--;
        }

        i--; // inside the name
        while (i > 0 && message[i] != (byte)'"')
        {
            i--;
        }

        return i;
    }

    /// <summary>Members from <paramref name="start"/> to <paramref name="end"/>, with the comma that follows (or, at the end of the object, the one before).</summary>
    private static JsonRange Extend(ReadOnlySpan<byte> message, int start, int end)
    {
        var after = end;
        while (after < message.Length && message[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            after++;
        }

        if (after < message.Length && message[after] == (byte)',')
        {
            return new JsonRange(start, after + 1 - start);
        }

        var before = start - 1;
        while (before > 0 && message[before] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            before--;
        }

        return message[before] == (byte)',' ? new JsonRange(before, end - before) : new JsonRange(start, end - start);
    }
}
