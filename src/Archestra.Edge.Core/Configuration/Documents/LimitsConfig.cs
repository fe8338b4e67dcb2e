namespace Archestra.Edge.Configuration.Documents;

/// <summary>The <c>limits:</c> section.</summary>
internal sealed class LimitsConfig
{
    /// <summary>Largest accepted request body. Default <c>4MiB</c>.</summary>
    public string? MaxRequestBytes { get; set; }

    /// <summary>Default time an upstream call may take. Default <c>60s</c>.</summary>
    public string? CallTimeout { get; set; }

    /// <summary>Most downstream sessions held at once. Default 10000.</summary>
    public int? MaxSessions { get; set; }

    /// <summary>A session unused this long is ended. Default <c>30m</c>.</summary>
    public string? SessionIdleTimeout { get; set; }

    /// <summary>SSE events each session keeps so a client can resume a lost stream with Last-Event-ID. Default <c>1MiB</c>; <c>0</c> disables resumption.</summary>
    public string? ReplayBufferBytes { get; set; }

    /// <summary>Items per page of the gateway's list results (tools, prompts, resources). Default 0: one page.</summary>
    public int? ListPageSize { get; set; }

    /// <summary>Requests each caller (token, user, or client address without auth) may make: <c>N/s</c>, <c>N/m</c> or <c>N/h</c>, bursts up to N. Default: unlimited.</summary>
    public string? RatePerPrincipal { get; set; }

    /// <summary>Requests each profile takes from all callers together. Default: unlimited.</summary>
    public string? RatePerProfile { get; set; }

    /// <summary>Calls of each tool of each profile (over all callers); beyond it the call gets a tool error. Default: unlimited.</summary>
    public string? RatePerTool { get; set; }

    /// <summary>Slow-client protection: a client must send its request headers within this time. Default <c>30s</c>.</summary>
    public string? RequestHeadersTimeout { get; set; }

    /// <summary>Most open client connections (idle ones included); past it new connections are closed at once. Default 10000.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>An idle keep-alive connection is closed after this long. Default <c>30s</c>.</summary>
    public string? KeepAliveTimeout { get; set; }
}
