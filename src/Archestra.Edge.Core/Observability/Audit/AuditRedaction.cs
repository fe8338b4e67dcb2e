using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Model;

namespace Archestra.Edge.Observability.Audit;

/// <summary>How much of a call's arguments the audit trail keeps (<c>audit.arguments</c>), whatever stores it.</summary>
internal static class AuditRedaction
{
    /// <summary>What the trail keeps of raw arguments: all, none, or each top-level name with its value hidden.</summary>
    public static string? Keep(byte[]? raw, AuditArguments mode)
    {
        if (raw is null || mode == AuditArguments.None)
        {
            return null;
        }

        if (mode == AuditArguments.Full)
        {
            return Encoding.UTF8.GetString(raw);
        }

        try
        {
            // Names only: one pass over the top-level object, skipping every value unread.
            var reader = new Utf8JsonReader(raw);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "\"[redacted]\"";
            }

            var buffer = new ArrayBufferWriter<byte>(64);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    writer.WritePropertyName(reader.HasValueSequence || reader.ValueIsEscaped ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan));
                    writer.WriteStringValue("[redacted]");
                    if (!reader.Read())
                    {
                        throw new JsonException("truncated");
                    }

                    reader.Skip();
                }

                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException)
        {
            return "\"[redacted]\"";
        }
    }
}
