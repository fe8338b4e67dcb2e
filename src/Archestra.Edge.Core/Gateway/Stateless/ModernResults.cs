using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Gateway.Stateless;

/// <summary>
/// What a 2026-07-28 result has that a 2025 one lacks: <c>resultType</c> on every result, and the caching hints
/// <c>ttlMs</c> / <c>cacheScope</c> on lists and reads. Results of 2025 servers get them spliced in after the opening
/// brace (nothing else is touched); the gateway's own lists and <c>server/discover</c> are written with them.
/// </summary>
internal static class ModernResults
{
    /// <summary>
    /// How long a client may use a list of a complete catalog without asking again. Short on purpose: a reload or an
    /// upstream's <c>list_changed</c> replaces the catalog at once, and clients that must know at once listen
    /// (<c>subscriptions/listen</c>). A catalog still missing a server's list gets 0: ask again.
    /// </summary>
    public const int ListTtlMilliseconds = 5_000;

    public static ReadOnlySpan<byte> Complete => "\"resultType\":\"complete\""u8;

    /// <summary>
    /// The caching scope of a profile's lists: <c>private</c> when callers authenticate (what a caller may see is
    /// theirs), <c>public</c> when the gateway serves everyone the same.
    /// </summary>
    public static ReadOnlySpan<byte> Scope(bool authenticated) => authenticated ? "private"u8 : "public"u8;

    /// <summary>The members to splice into a list result (or a read: <paramref name="ttl"/> 0), with a trailing comma.</summary>
    public static byte[] ListMembers(int ttl, bool authenticated)
    {
        var buffer = new ArrayBufferWriter<byte>(80);
        buffer.Write(Complete);
        buffer.Write(",\"ttlMs\":"u8);
        buffer.Write(System.Text.Encoding.ASCII.GetBytes(ttl.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        buffer.Write(",\"cacheScope\":\""u8);
        buffer.Write(Scope(authenticated));
        buffer.Write("\","u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Where to splice <paramref name="members"/> (which end with a comma) into the result object at
    /// <paramref name="result"/>, and what: right after the brace, without the comma when the object is empty.
    /// Null when the result is not an object.
    /// </summary>
    public static (int Offset, ReadOnlyMemory<byte> Text)? Splice(ReadOnlySpan<byte> message, JsonRange result, ReadOnlyMemory<byte> members)
    {
        if (result.IsEmpty || message[result.Start] != (byte)'{')
        {
            return null;
        }

        var inner = message.Slice(result.Start + 1, result.Length - 1).TrimStart(" \t\r\n"u8);
        return (result.Start + 1, inner.Length > 0 && inner[0] == (byte)'}' ? members[..^1] : members);
    }

    /// <summary>A whole result object with <paramref name="members"/> spliced in.</summary>
    public static byte[] Decorate(ReadOnlySpan<byte> result, ReadOnlySpan<byte> members)
    {
        var inner = result[1..].TrimStart(" \t\r\n"u8);
        var empty = inner.Length > 0 && inner[0] == (byte)'}';
        var output = new byte[result.Length + members.Length - (empty ? 1 : 0)];
        output[0] = (byte)'{';
        members[..(empty ? members.Length - 1 : members.Length)].CopyTo(output.AsSpan(1));
        result[1..].CopyTo(output.AsSpan(1 + members.Length - (empty ? 1 : 0)));
        return output;
    }

    /// <summary>
    /// The HTTP status 2026-07-28 gives an error: 400 for a header mismatch, a missing client capability or an
    /// unsupported version, 404 for an unknown method, 200 for the rest (tool and parameter errors).
    /// </summary>
    public static int StatusOf(ReadOnlySpan<byte> message, JsonRange error)
    {
        if (error.IsEmpty)
        {
            return 200;
        }

        var reader = new Utf8JsonReader(error.Slice(message));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCode = reader.ValueTextEquals("code"u8);
            reader.Read();
            if (isCode && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var code))
            {
                return code switch
                {
                    JsonRpcErrorCode.HeaderMismatch or JsonRpcErrorCode.MissingRequiredClientCapability or JsonRpcErrorCode.UnsupportedProtocolVersion => 400,
                    JsonRpcErrorCode.MethodNotFound => 404,
                    _ => 200,
                };
            }

            reader.Skip();
        }

        return 200;
    }

    public static readonly byte[] CompleteMember = "\"resultType\":\"complete\","u8.ToArray();

    /// <summary>The <c>server/discover</c> result for a profile: the revisions, capabilities and identity it really offers.</summary>
    public static byte[] Discover(ProfileRuntime profile, bool authenticated)
    {
        var output = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(output, JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("resultType", "complete");
            writer.WriteStartArray("supportedVersions");
            foreach (var version in ProtocolVersions.Supported)
            {
                writer.WriteStringValue(version);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("capabilities");
            writer.WriteRawValue(profile.CapabilitiesJson, skipInputValidation: true);
            if (profile.Model.Instructions is { } instructions)
            {
                writer.WriteString("instructions", instructions);
            }

            writer.WriteNumber("ttlMs", ListTtlMilliseconds);
            writer.WriteString("cacheScope", authenticated ? "private" : "public");
            writer.WriteStartObject("_meta");
            writer.WriteStartObject("io.modelcontextprotocol/serverInfo");
            writer.WriteString("name", BuildInfo.ProductName);
            writer.WriteString("title", profile.Model.Title ?? $"{BuildInfo.ProductTitle} · {profile.Name}");
            writer.WriteString("version", BuildInfo.Version);
            if (profile.Model.Description is { } description)
            {
                writer.WriteString("description", description);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }
}
