using System.Net.Http.Headers;
using System.Text;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Upstreams.Http;

/// <summary>
/// 2026-07-28 towards a server (found by <see cref="UpstreamSession.OpenAsync"/>): every request carries the <c>Mcp-Method</c> / <c>Mcp-Name</c> headers and the
/// <c>_meta</c> that stands for a session, and list changes come on a <c>subscriptions/listen</c> stream.
/// </summary>
internal sealed partial class HttpUpstreamSession
{
    private static readonly byte[] s_listenBody = System.Text.Encoding.UTF8.GetBytes(
        "{\"jsonrpc\":\"2.0\",\"id\":\"edge-listen\",\"method\":\"subscriptions/listen\",\"params\":{\"_meta\":{"
        + Encoding.UTF8.GetString(ModernMeta.Gateway.AsSpan(0, ModernMeta.Gateway.Length - 1))
        + "},\"notifications\":{\"toolsListChanged\":true,\"promptsListChanged\":true,\"resourcesListChanged\":true}}}");

    /// <summary>A 2026-07-28 server gets that revision in <c>MCP-Protocol-Version</c>; a 2025 one the version <c>initialize</c> settles.</summary>
    protected override void OnEraChosen(bool modern) => _protocolVersion = modern ? ProtocolVersions.V20260728 : null;

    /// <summary>A request on its way to a 2026-07-28 server: its <c>Mcp-*</c> headers, and the message with <c>_meta</c> completed when it lacked it.</summary>
    private sealed class ModernRequest : IDisposable
    {
        private PooledBufferWriter? _rewritten;

        public ReadOnlyMemory<byte> Message { get; init; }

        public string? Method { get; init; }

        public string? Name { get; init; }

        public PooledBufferWriter? Rewritten
        {
            get => _rewritten;
            init => _rewritten = value;
        }

        public IReadOnlyList<KeyValuePair<string, string>>? Forwarded { get; init; }

        public void AddHeaders(HttpRequestHeaders headers)
        {
            foreach (var (name, value) in Forwarded ?? [])
            {
                headers.TryAddWithoutValidation(name, value);
            }

            if (Method is not null)
            {
                headers.TryAddWithoutValidation(McpHeaders.Method, Method);
            }

            if (Name is not null)
            {
                headers.TryAddWithoutValidation(McpHeaders.Name, HeaderValue(Name));
            }
        }

        public void Dispose() => _rewritten?.Dispose();

        /// <summary>Plain visible ASCII as is; anything else in the revision's <c>=?base64?…?=</c> form.</summary>
        private static string HeaderValue(string value)
        {
            foreach (var c in value)
            {
                if (c is < (char)0x20 or > (char)0x7E)
                {
                    return "=?base64?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) + "?=";
                }
            }

            return value;
        }
    }

    private static ModernRequest Modernize(ReadOnlyMemory<byte> message, ICallerContext? caller)
    {
        var envelope = EnvelopeReader.Read(message.Span);
        var method = envelope.MethodName.IsEmpty ? null : Encoding.UTF8.GetString(envelope.MethodName.StringContent(message.Span));
        var named = envelope.Method switch
        {
            McpMethod.ToolsCall or McpMethod.PromptsGet => envelope.Name,
            McpMethod.ResourcesRead => envelope.Uri,
            _ => default,
        };
        var name = named.IsEmpty ? null : JsonString.Decode(named.Slice(message.Span));
        if (!envelope.MetaProtocolVersion.IsEmpty)
        {
            // A 2026-07-28 client's request: it carries its own _meta and goes as it is.
            return new ModernRequest { Message = message, Method = method, Name = name, Forwarded = caller?.ForwardedHeaders };
        }

        var output = new PooledBufferWriter(message.Length + 320);
        CompleteModernMeta(message.Span, envelope, caller, output);
        return new ModernRequest { Message = output.WrittenMemory, Method = method, Name = name, Rewritten = output };
    }


    /// <summary>The listening stream's request: a GET (2025), or a POST of <c>subscriptions/listen</c> (2026-07-28).</summary>
    private HttpRequestMessage CreateListenRequest(string? lastEventId)
    {
        if (!SpeaksModern)
        {
            return CreateStreamRequest(lastEventId);
        }

        var request = CreateRequest(HttpMethod.Post);
        request.Headers.TryAddWithoutValidation("Accept", AcceptBoth);
        request.Headers.TryAddWithoutValidation(McpHeaders.Method, "subscriptions/listen");
        var content = new ByteArrayContent(s_listenBody);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Content = content;
        return request;
    }
}
