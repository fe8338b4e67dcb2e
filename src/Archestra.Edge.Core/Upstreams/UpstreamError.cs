namespace Archestra.Edge.Upstreams;

/// <summary>How talking to an upstream failed. Errors on the data path are values, mapped to wire errors in one place.</summary>
internal enum UpstreamErrorKind : byte
{
    None = 0,

    /// <summary>The server could not be reached or started (connection refused, command not found, initialize failed).</summary>
    Unavailable,

    /// <summary>The server failed while handling the request: crashed, answered with an HTTP error, or broke the protocol.</summary>
    Failed,

    /// <summary>The upstream session ended (HTTP 404 on a session id); a new session can be opened.</summary>
    SessionExpired,

    /// <summary>The upstream did not answer in time.</summary>
    Timeout,

    /// <summary>The server needs a credential the caller has none of (no user, team or default value).</summary>
    CredentialMissing,
}

internal readonly record struct UpstreamError(UpstreamErrorKind Kind, string Message)
{
    public static UpstreamError None => default;

    /// <summary>
    /// Where the caller makes what is missing (a <see cref="UpstreamErrorKind.CredentialMissing"/> that a person can
    /// fix: their connection on the gateway's connect page); null when only an administrator can.
    /// </summary>
    public string? ConnectUrl { get; init; }

    public bool IsError => Kind != UpstreamErrorKind.None;

    public static UpstreamError Unavailable(string message) => new(UpstreamErrorKind.Unavailable, message);

    public static UpstreamError Failed(string message) => new(UpstreamErrorKind.Failed, message);

    public static UpstreamError Expired(string message) => new(UpstreamErrorKind.SessionExpired, message);
}
