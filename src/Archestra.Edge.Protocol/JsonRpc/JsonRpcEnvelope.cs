using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>
/// The routing-relevant parts of one JSON-RPC message, as byte ranges into the message it was read from.
/// Nothing is copied or decoded: the gateway forwards the original bytes and splices only the ranges it
/// must change (the id, a prefixed name, a progress token).
/// </summary>
public struct JsonRpcEnvelope
{
    public JsonRpcMessageKind Kind { get; set; }
    public EnvelopeError Error { get; set; }
    public JsonRpcIdKind IdKind { get; set; }
    public McpMethod Method { get; set; }

    /// <summary>The id token (number or quoted string) of a request or response.</summary>
    public JsonRange Id { get; set; }

    /// <summary>The method name token, quotes included.</summary>
    public JsonRange MethodName { get; set; }

    /// <summary>The whole <c>params</c> value.</summary>
    public JsonRange Params { get; set; }

    /// <summary><c>params.name</c> (tools/call, prompts/get): the string token.</summary>
    public JsonRange Name { get; set; }

    /// <summary><c>params.arguments</c> (tools/call, prompts/get): the whole value, of any type.</summary>
    public JsonRange Arguments { get; set; }

    /// <summary><c>params.uri</c> (resources/read, subscribe, notifications/resources/updated).</summary>
    public JsonRange Uri { get; set; }

    /// <summary><c>params.cursor</c> of a list request.</summary>
    public JsonRange Cursor { get; set; }

    /// <summary><c>params.level</c> (logging/setLevel, notifications/message).</summary>
    public JsonRange Level { get; set; }

    /// <summary><c>params.protocolVersion</c> (initialize).</summary>
    public JsonRange ProtocolVersion { get; set; }

    /// <summary><c>params._meta.progressToken</c> of a request, or <c>params.progressToken</c> of a progress notification.</summary>
    public JsonRange ProgressToken { get; set; }

    /// <summary><c>params.requestId</c> of <c>notifications/cancelled</c>.</summary>
    public JsonRange RequestId { get; set; }

    /// <summary><c>params.ref</c> of completion/complete, and inside it <c>name</c> / <c>uri</c>.</summary>
    public JsonRange Ref { get; set; }
    public JsonRange RefName { get; set; }
    public JsonRange RefUri { get; set; }

    /// <summary>2026-07-28: the <c>params._meta</c> object, and in it the protocol version (string token), the client capabilities and the log level.</summary>
    public JsonRange Meta { get; set; }
    public JsonRange MetaProtocolVersion { get; set; }
    public JsonRange MetaClientCapabilities { get; set; }
    public JsonRange MetaClientInfo { get; set; }
    public JsonRange MetaLogLevel { get; set; }

    /// <summary>2026-07-28 multi-round-trip requests: <c>params.requestState</c> (string token) and <c>params.inputResponses</c>.</summary>
    public JsonRange RequestState { get; set; }
    public JsonRange InputResponses { get; set; }

    /// <summary>The <c>result</c> value of a response.</summary>
    public JsonRange Result { get; set; }

    /// <summary>The <c>error</c> value of an error response.</summary>
    public JsonRange ErrorObject { get; set; }

    /// <summary>True when a routing field had the wrong JSON type (e.g. a numeric <c>name</c>).</summary>
    public bool ParamsTypeMismatch { get; set; }

    /// <summary>
    /// A member the gateway reads (top level, <c>params</c>, <c>_meta</c>, <c>ref</c>) appears twice. Parsers differ on
    /// which one wins, so such a message is refused: the gateway must never route or curate by one value while the
    /// upstream acts on the other.
    /// </summary>
    public bool DuplicateKey { get; set; }

    public readonly bool IsRequest => Kind == JsonRpcMessageKind.Request;

    public readonly bool IsNotification => Kind == JsonRpcMessageKind.Notification;

    public readonly bool IsResponse => Kind is JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse;

    public readonly bool IsValid => Kind != JsonRpcMessageKind.Invalid;
}
