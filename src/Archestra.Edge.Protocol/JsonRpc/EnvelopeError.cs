namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>Why a message could not be read as a JSON-RPC envelope.</summary>
public enum EnvelopeError : byte
{
    None = 0,
    /// <summary>The bytes are not well-formed JSON (JSON-RPC -32700).</summary>
    ParseError,
    /// <summary>Valid JSON but not a JSON-RPC 2.0 object (JSON-RPC -32600).</summary>
    NotAnObject,
    MissingVersion,
    InvalidId,
    InvalidMethod,
    /// <summary>A message with neither <c>method</c> nor <c>result</c>/<c>error</c>.</summary>
    NoMethodOrResult,
    /// <summary>A member the gateway reads appears twice (JSON-RPC -32600).</summary>
    DuplicateKey,
}
