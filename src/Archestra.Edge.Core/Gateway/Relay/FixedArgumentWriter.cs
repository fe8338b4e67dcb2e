using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Builds the <c>arguments</c> object of a call to a tool with fixed arguments: the fixed members first, then the
/// caller's members except any that name a fixed argument (a caller cannot override them). Runs only for curated
/// tools; everything else is forwarded untouched.
/// </summary>
internal static class FixedArgumentWriter
{
    /// <summary>Whether a caller's <c>arguments</c> value can take fixed arguments: an object, null, or absent.</summary>
    public static bool Accepts(ReadOnlySpan<byte> arguments)
        => arguments.IsEmpty || arguments[0] == (byte)'{' || arguments.SequenceEqual("null"u8);

    /// <summary>Writes the merged arguments object.</summary>
    public static void Write(IBufferWriter<byte> output, FixedArguments fixedArguments, ReadOnlySpan<byte> callerArguments)
    {
        output.Write("{"u8);
        output.Write(fixedArguments.Members);
        if (callerArguments.IsEmpty || callerArguments[0] != (byte)'{')
        {
            output.Write("}"u8);
            return;
        }

        var reader = new Utf8JsonReader(callerArguments);
        reader.Read(); // StartObject
        Span<char> name = stackalloc char[128];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var memberStart = (int)reader.TokenStartIndex;
            var isFixed = IsFixed(ref reader, fixedArguments, name);
            reader.Read();
            reader.Skip();
            if (!isFixed)
            {
                output.Write(","u8);
                output.Write(callerArguments[memberStart..(int)reader.BytesConsumed]);
            }
        }

        output.Write("}"u8);
    }

    private static bool IsFixed(ref Utf8JsonReader reader, FixedArguments fixedArguments, scoped Span<char> buffer)
    {
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > buffer.Length)
        {
            return fixedArguments.Contains(reader.GetString());
        }

        var written = reader.CopyString(buffer);
        return fixedArguments.Contains(buffer[..written]);
    }
}
