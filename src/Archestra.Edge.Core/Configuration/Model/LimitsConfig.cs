namespace Archestra.Edge.Configuration.Model;

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
}
