using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway;

/// <summary>Every way a downstream request can fail. Values on the data path; mapped to the wire only in <see cref="GatewayErrors"/>.</summary>
internal enum GatewayErrorKind : byte
{
    None = 0,
    ParseError,
    InvalidRequest,
    BatchNotSupported,
    MethodNotFound,
    InvalidParams,
    UnknownTool,
    UnknownPrompt,
    ResourceNotFound,
    SessionRequired,
    SessionNotFound,
    UnsupportedProtocolVersion,
    UnknownProfile,
    ForbiddenOrigin,
    ForbiddenHost,
    NotAcceptable,
    UnsupportedMediaType,
    PayloadTooLarge,
    MethodNotAllowed,
    StreamConflict,
    TooManySessions,

    /// <summary>A caller or profile rate limit: 429 with Retry-After.</summary>
    RateLimited,

    /// <summary>A tool's rate limit, inside a session: a tool error (isError) the model can read.</summary>
    ToolRateLimited,

    /// <summary>A policy rule (or a tool assignment's users/teams) refused the call: a tool error naming the rule.</summary>
    PolicyDenied,
    UpstreamUnavailable,
    UpstreamFailed,
    UpstreamTimeout,
    InternalError,
    Unauthorized,
    Forbidden,

    /// <summary>2026-07-28: an <c>Mcp-*</c> header or the protocol version header disagrees with the body: 400, -32020.</summary>
    HeaderMismatch,

    /// <summary>2026-07-28: the request's <c>_meta</c> lacks the protocol version or the client capabilities: 400, -32602.</summary>
    InvalidMeta,

    /// <summary>2026-07-28: a method the stateless era does not have (initialize, ping, logging/setLevel, …) or an unknown one: 404, -32601.</summary>
    ModernMethodNotFound,

    /// <summary>
    /// The caller must first connect their account at a URL (an OAuth connection to the upstream): -32042 with the URL
    /// as a URL-mode elicitation, for clients that declared that mode.
    /// </summary>
    UrlElicitationRequired,

    /// <summary>2026-07-28: a <c>requestState</c> that is not the gateway's, was altered, expired, was used already, or belongs to another caller or profile.</summary>
    InvalidRequestState,
}

internal readonly record struct GatewayError(GatewayErrorKind Kind, string Message)
{
    public static GatewayError From(UpstreamError error, string server) => error.Kind switch
    {
        UpstreamErrorKind.Timeout => new(GatewayErrorKind.UpstreamTimeout, $"Upstream '{server}' did not answer in time: {error.Message}"),
        UpstreamErrorKind.Failed => new(GatewayErrorKind.UpstreamFailed, $"Upstream '{server}' failed: {error.Message}"),
        UpstreamErrorKind.CredentialMissing => new(GatewayErrorKind.UpstreamUnavailable, $"No credential: {error.Message}"),
        _ => new(GatewayErrorKind.UpstreamUnavailable, $"Upstream '{server}' is unavailable: {error.Message}"),
    };
}

/// <summary>The one place where gateway errors become HTTP statuses and JSON-RPC error codes.</summary>
internal static class GatewayErrors
{
    public static (int Status, int Code) Map(GatewayErrorKind kind) => kind switch
    {
        GatewayErrorKind.ParseError => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.ParseError),
        GatewayErrorKind.InvalidRequest => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.InvalidRequest),
        GatewayErrorKind.BatchNotSupported => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.InvalidRequest),
        GatewayErrorKind.SessionRequired => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.UnsupportedProtocolVersion => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.UnsupportedProtocolVersion),
        GatewayErrorKind.SessionNotFound => (StatusCodes.Status404NotFound, JsonRpcErrorCode.RequestTimeout),
        GatewayErrorKind.UnknownProfile => (StatusCodes.Status404NotFound, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.ForbiddenOrigin => (StatusCodes.Status403Forbidden, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.ForbiddenHost => (StatusCodes.Status403Forbidden, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.NotAcceptable => (StatusCodes.Status406NotAcceptable, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.UnsupportedMediaType => (StatusCodes.Status415UnsupportedMediaType, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.PayloadTooLarge => (StatusCodes.Status413PayloadTooLarge, JsonRpcErrorCode.InvalidRequest),
        GatewayErrorKind.MethodNotAllowed => (StatusCodes.Status405MethodNotAllowed, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.StreamConflict => (StatusCodes.Status409Conflict, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.TooManySessions => (StatusCodes.Status503ServiceUnavailable, JsonRpcErrorCode.Overloaded),
        GatewayErrorKind.RateLimited => (StatusCodes.Status429TooManyRequests, JsonRpcErrorCode.Overloaded),
        GatewayErrorKind.Unauthorized => (StatusCodes.Status401Unauthorized, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.Forbidden => (StatusCodes.Status403Forbidden, JsonRpcErrorCode.ServerError),
        GatewayErrorKind.HeaderMismatch => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.HeaderMismatch),
        GatewayErrorKind.InvalidMeta => (StatusCodes.Status400BadRequest, JsonRpcErrorCode.InvalidParams),
        GatewayErrorKind.ModernMethodNotFound => (StatusCodes.Status404NotFound, JsonRpcErrorCode.MethodNotFound),
        GatewayErrorKind.InvalidRequestState => (StatusCodes.Status200OK, JsonRpcErrorCode.InvalidParams),
        GatewayErrorKind.UrlElicitationRequired => (StatusCodes.Status200OK, JsonRpcErrorCode.UrlElicitationRequired),

        // Inside a session, protocol-level failures are JSON-RPC errors in a 200 response.
        GatewayErrorKind.MethodNotFound => (StatusCodes.Status200OK, JsonRpcErrorCode.MethodNotFound),
        GatewayErrorKind.InvalidParams => (StatusCodes.Status200OK, JsonRpcErrorCode.InvalidParams),
        GatewayErrorKind.UnknownTool => (StatusCodes.Status200OK, JsonRpcErrorCode.InvalidParams),
        GatewayErrorKind.UnknownPrompt => (StatusCodes.Status200OK, JsonRpcErrorCode.InvalidParams),
        GatewayErrorKind.ResourceNotFound => (StatusCodes.Status200OK, JsonRpcErrorCode.ResourceNotFound),
        GatewayErrorKind.UpstreamUnavailable => (StatusCodes.Status200OK, JsonRpcErrorCode.UpstreamUnavailable),
        GatewayErrorKind.UpstreamFailed => (StatusCodes.Status200OK, JsonRpcErrorCode.UpstreamFailed),
        GatewayErrorKind.UpstreamTimeout => (StatusCodes.Status200OK, JsonRpcErrorCode.RequestTimeout),
        GatewayErrorKind.PolicyDenied => (StatusCodes.Status200OK, JsonRpcErrorCode.ServerError),
        _ => (StatusCodes.Status500InternalServerError, JsonRpcErrorCode.InternalError),
    };
}
