namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>What a JSON-RPC message is, as far as routing cares.</summary>
public enum JsonRpcMessageKind : byte
{
    /// <summary>Not a valid JSON-RPC 2.0 message; <see cref="JsonRpcEnvelope.Error"/> says why.</summary>
    Invalid = 0,
    Request,
    Notification,
    Response,
    ErrorResponse,
    /// <summary>A JSON array: a batch (allowed only in protocol revision 2025-03-26).</summary>
    Batch,
}

/// <summary>The JSON type of a request id.</summary>
public enum JsonRpcIdKind : byte
{
    None = 0,
    Number,
    String,
    Null,
}
