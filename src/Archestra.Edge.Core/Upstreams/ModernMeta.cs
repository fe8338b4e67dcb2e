using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// The <c>_meta</c> members a 2026-07-28 request must carry (protocol version, client capabilities, client info, and
/// the log level when logs are wanted), and how they are spliced into a request that lacks them: the gateway's own
/// requests and those relayed for 2025 sessions. Requests of 2026-07-28 clients carry their own and pass untouched.
/// </summary>
internal static class ModernMeta
{
    /// <summary>The gateway's own requests (lists, discovery): it asks nothing of clients.</summary>
    public static readonly byte[] Gateway = For(false, false, false, false, null, null, null);

    public static byte[] For(bool sampling, bool elicitationForm, bool elicitationUrl, bool roots, string? clientName, string? clientVersion, string? logLevel)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(output, JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("io.modelcontextprotocol/protocolVersion", ProtocolVersions.V20260728);
            writer.WriteStartObject("io.modelcontextprotocol/clientCapabilities");
            if (sampling)
            {
                writer.WriteStartObject("sampling");
                writer.WriteEndObject();
            }

            if (elicitationForm || elicitationUrl)
            {
                writer.WriteStartObject("elicitation");
                if (elicitationForm)
                {
                    writer.WriteStartObject("form");
                    writer.WriteEndObject();
                }

                if (elicitationUrl)
                {
                    writer.WriteStartObject("url");
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            if (roots)
            {
                writer.WriteStartObject("roots");
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteStartObject("io.modelcontextprotocol/clientInfo");
            writer.WriteString("name", clientName ?? BuildInfo.ProductName);
            writer.WriteString("version", clientVersion ?? BuildInfo.Version);
            writer.WriteEndObject();
            if (logLevel is not null)
            {
                writer.WriteString("io.modelcontextprotocol/logLevel", logLevel);
            }

            writer.WriteEndObject();
        }

        // The members without the braces, with a trailing comma: {"a":1,"b":2} → "a":1,"b":2,
        var json = output.WrittenSpan;
        var members = new byte[json.Length - 1];
        json[1..^1].CopyTo(members);
        members[^1] = (byte)',';
        return members;
    }

    /// <summary>
    /// Writes <paramref name="message"/> (a request without the 2026-07-28 <c>_meta</c>) with <paramref name="members"/>
    /// spliced into its <c>_meta</c>, or into a new <c>_meta</c>, or into new <c>params</c>.
    /// </summary>
    public static void Splice(ReadOnlySpan<byte> message, in JsonRpcEnvelope envelope, ReadOnlySpan<byte> members, IBufferWriter<byte> output)
    {
        var rewriter = new MessageRewriter();
        if (!envelope.Meta.IsEmpty && message[envelope.Meta.Start] == (byte)'{')
        {
            var inner = message[(envelope.Meta.Start + 1)..].TrimStart(" \t\r\n"u8);
            rewriter.Insert(envelope.Meta.Start + 1, inner[0] == (byte)'}' ? members[..^1] : members);
            rewriter.WriteTo(message, output);
            return;
        }

        if (!envelope.Params.IsEmpty && message[envelope.Params.Start] == (byte)'{')
        {
            var inner = message[(envelope.Params.Start + 1)..].TrimStart(" \t\r\n"u8);
            byte[] text = [.. "\"_meta\":{"u8, .. members[..^1], .. (inner[0] == (byte)'}' ? "}"u8 : "},"u8)];
            rewriter.Insert(envelope.Params.Start + 1, text);
            rewriter.WriteTo(message, output);
            return;
        }

        // No params: {"jsonrpc":"2.0","id":1,"method":"m"} → …,"params":{"_meta":{…}}}
        var end = message.LastIndexOf((byte)'}');
        byte[] added = [.. ",\"params\":{\"_meta\":{"u8, .. members[..^1], .. "}}"u8];
        rewriter.Insert(end, added);
        rewriter.WriteTo(message, output);
    }
}
