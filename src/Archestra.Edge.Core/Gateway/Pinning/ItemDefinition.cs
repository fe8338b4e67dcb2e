using System.Buffers;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Pinning;

/// <summary>
/// The pinned form of a tool or prompt definition: every top-level property except its name (the key it is pinned
/// under) and <c>_meta</c> (free for servers to vary), in canonical JSON — object properties sorted by name, no
/// whitespace, strings escaped one way, numbers as written — so the same definition always hashes the same
/// however a server orders or spaces it. Digests are SHA-256, lowercase hex. Cold path: runs when a list is read.
/// </summary>
internal static class ItemDefinition
{
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    /// <summary>Whether a top-level property is part of what is pinned.</summary>
    public static bool IsPinned(string property) => property is not ("name" or "_meta");

    /// <summary>The digests of an item as the upstream listed it (its raw JSON object).</summary>
    public static PinnedItem Digest(ReadOnlySpan<byte> raw)
    {
        using var document = JsonDocument.Parse(raw.ToArray());
        return Digest(document.RootElement);
    }

    /// <summary>The digests of a definition: the whole (pinned properties only) and each pinned property.</summary>
    public static PinnedItem Digest(JsonElement item)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (item.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in item.EnumerateObject())
            {
                if (IsPinned(property.Name))
                {
                    fields[property.Name] = Hash(property.Value, item: false);
                }
            }
        }

        return new PinnedItem(Hash(item, item: true), fields.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Writes the pinned part of an item in canonical order (indented for the lock file, where people read it).</summary>
    public static void WriteDefinition(Utf8JsonWriter writer, JsonElement item) => WriteCanonical(writer, item, topLevel: true);

    /// <summary>The pinned part of an item as readable text (one property per line), for diffs.</summary>
    public static string Render(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_indented))
        {
            WriteCanonical(writer, value, topLevel: false);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A digest of a label and a JSON value in canonical form (what an approval is bound to: a call's tool and arguments).</summary>
    public static string DigestOf(string label, ReadOnlySpan<byte> json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(System.Text.Encoding.UTF8.GetBytes(label));
        buffer.Write("\n"u8);
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            using var writer = new Utf8JsonWriter(buffer, s_compact);
            WriteCanonical(writer, document.RootElement, topLevel: false);
        }
        catch (JsonException)
        {
            buffer.Write(json);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>A property value (a schema, a description) is hashed whole; an item without its name and <c>_meta</c>.</summary>
    private static string Hash(JsonElement value, bool item)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_compact))
        {
            WriteCanonical(writer, value, topLevel: item);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value, bool topLevel)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new List<JsonProperty>();
                foreach (var property in value.EnumerateObject())
                {
                    if (!topLevel || IsPinned(property.Name))
                    {
                        properties.Add(property);
                    }
                }

                properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                writer.WriteStartObject();
                foreach (var property in properties)
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value, topLevel: false);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var element in value.EnumerateArray())
                {
                    WriteCanonical(writer, element, topLevel: false);
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
}
