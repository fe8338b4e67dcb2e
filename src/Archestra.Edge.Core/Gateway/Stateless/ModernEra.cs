using System.Text;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Archestra.Edge.Gateway.Stateless;

/// <summary>
/// The 2026-07-28 (stateless) era on the downstream side: which requests belong to it, and the checks its requests
/// pass before anything else — the <c>_meta</c> every request carries, and the <c>Mcp-*</c> headers against the body.
/// </summary>
internal static class ModernEra
{
    /// <summary>
    /// A request is of the stateless era when its <c>MCP-Protocol-Version</c> header says 2026-07-28, or when it carries
    /// no session and its <c>_meta</c> says so (a wrong or missing header is then a mismatch, not a 2025 request).
    /// </summary>
    public static bool Claims(HttpRequest request, in JsonRpcEnvelope envelope, ReadOnlySpan<byte> body)
    {
        var header = request.Headers[McpHeaders.ProtocolVersion];
        if (!StringValues.IsNullOrEmpty(header))
        {
            if (ProtocolVersions.IsModern(header.ToString()))
            {
                return true;
            }
        }

        return StringValues.IsNullOrEmpty(request.Headers[McpHeaders.SessionId])
            && !envelope.MetaProtocolVersion.IsEmpty
            && ProtocolVersions.IsModern(envelope.MetaProtocolVersion.StringContent(body));
    }

    /// <summary>
    /// The checks of a 2026-07-28 request, in the revision's order: <c>_meta</c> with the protocol version and the client
    /// capabilities (-32602), a version this gateway speaks (-32022), then the headers against the body (-32020).
    /// </summary>
    public static GatewayError Check(HttpRequest request, in JsonRpcEnvelope envelope, ReadOnlySpan<byte> body)
    {
        if (envelope.MetaProtocolVersion.IsEmpty || envelope.MetaClientCapabilities.IsEmpty || body[envelope.MetaClientCapabilities.Start] != (byte)'{')
        {
            return new(GatewayErrorKind.InvalidMeta,
                "Invalid params: a 2026-07-28 request must carry _meta with io.modelcontextprotocol/protocolVersion and io.modelcontextprotocol/clientCapabilities (an object)");
        }

        // The header chose this era; a _meta that names another version disagrees with it (an unsupported version in the
        // header itself is refused with -32022 before the era is chosen).
        var version = envelope.MetaProtocolVersion.StringContent(body);
        if (!ProtocolVersions.IsModern(version))
        {
            return new(GatewayErrorKind.HeaderMismatch, $"Header mismatch: MCP-Protocol-Version says 2026-07-28 but _meta names protocol version {Encoding.UTF8.GetString(version)}");
        }

        var header = request.Headers[McpHeaders.ProtocolVersion];
        if (StringValues.IsNullOrEmpty(header) || !ProtocolVersions.IsModern(header.ToString()))
        {
            return new(GatewayErrorKind.HeaderMismatch, $"Header mismatch: MCP-Protocol-Version must equal _meta's io.modelcontextprotocol/protocolVersion (2026-07-28), not '{header}'");
        }

        var method = request.Headers[McpHeaders.Method];
        if (StringValues.IsNullOrEmpty(method) || !Matches(method.ToString(), envelope.MethodName.StringContent(body)))
        {
            return new(GatewayErrorKind.HeaderMismatch, $"Header mismatch: Mcp-Method must equal the request's method, not '{method}'");
        }

        var named = envelope.Method switch
        {
            McpMethod.ToolsCall or McpMethod.PromptsGet => envelope.Name,
            McpMethod.ResourcesRead => envelope.Uri,
            _ => default,
        };

        if (envelope.Method is McpMethod.ToolsCall or McpMethod.PromptsGet or McpMethod.ResourcesRead)
        {
            var name = request.Headers[McpHeaders.Name];
            if (StringValues.IsNullOrEmpty(name) || named.IsEmpty || !Matches(name.ToString(), named.Slice(body).IndexOf((byte)'\\') < 0 ? named.StringContent(body) : Decode(named.Slice(body))))
            {
                return new(GatewayErrorKind.HeaderMismatch, $"Header mismatch: Mcp-Name must equal the request's {(envelope.Method == McpMethod.ResourcesRead ? "uri" : "name")}, not '{name}'");
            }
        }

        return default;
    }

    /// <summary>The client's capabilities from <c>_meta</c> (already known to be an object).</summary>
    public static ClientCapabilities Capabilities(in JsonRpcEnvelope envelope, ReadOnlySpan<byte> body)
    {
        var token = envelope.MetaClientCapabilities.Slice(body);
        if (token.Length <= 2 || token.Trim(" \t\r\n{}"u8).IsEmpty)
        {
            return ClientCapabilities.None;
        }

        return ClientCapabilities.Parse(token);
    }

    /// <summary>The request's <c>Mcp-Param-*</c> headers (arguments a tool marked for headers), to forward untouched; null when none.</summary>
    public static List<KeyValuePair<string, string>>? ParamHeaders(IHeaderDictionary headers)
    {
        List<KeyValuePair<string, string>>? found = null;
        foreach (var (name, value) in headers)
        {
            if (name.StartsWith(McpHeaders.ParamPrefix, StringComparison.OrdinalIgnoreCase))
            {
                (found ??= []).Add(new(name, value.ToString()));
            }
        }

        return found;
    }

    /// <summary>The log level the request asks for in <c>_meta</c>; unset means no logs at all (2026-07-28).</summary>
    public static int LogLevel(in JsonRpcEnvelope envelope, ReadOnlySpan<byte> body)
        => envelope.MetaLogLevel.IsEmpty ? LogLevels.Unset : LogLevels.Parse(envelope.MetaLogLevel.StringContent(body));

    /// <summary>
    /// A header value against the body's string: as is, or in the revision's <c>=?base64?…?=</c> form for values that
    /// are not plain ASCII.
    /// </summary>
    private static bool Matches(string header, ReadOnlySpan<byte> expected)
    {
        if (header.StartsWith("=?base64?", StringComparison.Ordinal) && header.EndsWith("?=", StringComparison.Ordinal))
        {
            try
            {
                return Convert.FromBase64String(header[9..^2]).AsSpan().SequenceEqual(expected);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        if (header.Length != expected.Length)
        {
            return false;
        }

        for (var i = 0; i < header.Length; i++)
        {
            if (header[i] != expected[i])
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Decode(ReadOnlySpan<byte> token) => Encoding.UTF8.GetBytes(JsonString.Decode(token));
}
