using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Archestra.Edge.Utilities;

/// <summary>
/// JSON in one form whatever way it was written: object properties sorted by name (ordinal), no whitespace (or
/// indented, for people), strings decoded and escaped one way, numbers as written. Two documents that mean the same
/// have the same canonical bytes, so their SHA-256 (lowercase hex) can stand for them: pinned tool definitions, the
/// call an approval was given for. Cold paths only.
/// </summary>
internal static class CanonicalJson
{
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    /// <summary>Writes <paramref name="value"/>; of a top-level object only the properties <paramref name="keep"/> admits (null: all).</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement value, Func<string, bool>? keep = null)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new List<JsonProperty>();
                foreach (var property in value.EnumerateObject())
                {
                    if (keep is null || keep(property.Name))
                    {
                        properties.Add(property);
                    }
                }

                properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                writer.WriteStartObject();
                foreach (var property in properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var element in value.EnumerateArray())
                {
                    Write(writer, element);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(value.GetString());
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(value.GetRawText(), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>SHA-256 of the canonical form, after <paramref name="label"/> and a newline when given.</summary>
    public static string Sha256(JsonElement value, Func<string, bool>? keep = null, string? label = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (label is not null)
        {
            buffer.Write(System.Text.Encoding.UTF8.GetBytes(label));
            buffer.Write("\n"u8);
        }

        using (var writer = new Utf8JsonWriter(buffer, s_compact))
        {
            Write(writer, value, keep);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>The canonical form indented, one property per line (for diffs people read).</summary>
    public static string Indented(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_indented))
        {
            Write(writer, value);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
