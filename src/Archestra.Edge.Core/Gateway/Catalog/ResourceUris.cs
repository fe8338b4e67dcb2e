using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// Reversible namespacing of resource URIs and URI templates under <c>naming: prefixed</c>: <c>&lt;server&gt;+&lt;uri&gt;</c>.
/// Server names that prefix URIs start with a letter and hold only letters, digits, <c>-</c> and <c>.</c> (checked
/// by the config), so <c>fs+file:///a</c> is still a valid URI (scheme <c>fs+file</c>) and the first <c>+</c> always
/// splits it back.
/// </summary>
internal static class ResourceUris
{
    public const char Separator = '+';

    public static string Prefix(string server, string uri) => string.Concat(server, "+", uri);

    /// <summary>Writes <c>server+</c> as UTF-8; returns the byte count.</summary>
    public static int WritePrefix(string server, Span<byte> destination)
    {
        var length = Encoding.UTF8.GetBytes(server, destination);
        destination[length] = (byte)Separator;
        return length + 1;
    }

    /// <summary>The server name and upstream URI of a prefixed URI, if it has the form <c>name+rest</c>.</summary>
    public static bool TrySplit(string exposed, out string server, out string uri)
    {
        var plus = exposed.IndexOf(Separator, StringComparison.Ordinal);
        var colon = exposed.IndexOf(':', StringComparison.Ordinal);
        if (plus <= 0 || (colon >= 0 && colon < plus))
        {
            server = string.Empty;
            uri = exposed;
            return false;
        }

        server = exposed[..plus];
        uri = exposed[(plus + 1)..];
        return true;
    }

    /// <summary>The literal part of a URI template before its first expression: what every URI it makes starts with.</summary>
    public static string LiteralPrefix(string template)
    {
        var brace = template.IndexOf('{', StringComparison.Ordinal);
        return brace < 0 ? template : template[..brace];
    }

    /// <summary>
    /// Copies a <c>resources/read</c> result, putting <c>server+</c> in front of every <c>contents[].uri</c>.
    /// Everything else (texts, blobs) is copied as is.
    /// </summary>
    public static void WriteResultWithPrefixedUris(ReadOnlySpan<byte> result, string server, IBufferWriter<byte> output)
    {
        Span<byte> prefix = stackalloc byte[Encoding.UTF8.GetMaxByteCount(server.Length + 1)];
        prefix = prefix[..WritePrefix(server, prefix)];
        var copied = 0;
        try
        {
            var reader = new Utf8JsonReader(result);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                output.Write(result);
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isContents = reader.ValueTextEquals("contents"u8);
                reader.Read();
                if (!isContents || reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isUri = reader.ValueTextEquals("uri"u8);
                        reader.Read();
                        if (isUri && reader.TokenType == JsonTokenType.String)
                        {
                            var insertAt = (int)reader.TokenStartIndex + 1;
                            output.Write(result[copied..insertAt]);
                            output.Write(prefix);
                            copied = insertAt;
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not ours to judge: the rest goes out as the upstream sent it.
        }

        output.Write(result[copied..]);
    }
}
