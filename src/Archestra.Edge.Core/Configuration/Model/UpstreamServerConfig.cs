namespace Archestra.Edge.Configuration.Model;

/// <summary>One upstream MCP server. Exactly one of <c>remote</c>, <c>process</c> or <c>builtin</c> is set.</summary>
internal sealed class UpstreamServerConfig
{
    public RemoteServerConfig? Remote { get; set; }

    public ProcessServerConfig? Process { get; set; }

    /// <summary>An embedded server; the only one is <c>archestra</c>.</summary>
    public string? Builtin { get; set; }

    /// <summary>Time a call to this server may take. Default: <c>limits.call_timeout</c>.</summary>
    public string? CallTimeout { get; set; }

    /// <summary>Copies of a process server to run; calls are spread over the ready ones. Default 1.</summary>
    public int? Replicas { get; set; }

    /// <summary>
    /// <c>shared</c> (default): all downstream sessions share one upstream session per replica.
    /// <c>per_session</c>: each downstream session gets its own upstream session (its own process), closed with it.
    /// </summary>
    public string? Sharing { get; set; }

    /// <summary>
    /// How often the gateway re-reads the lists of a server that does not announce list changes. Default <c>5m</c>;
    /// <c>off</c> never.
    /// </summary>
    public string? ListRefresh { get; set; }
}

/// <summary>A remote server reached over HTTP.</summary>
internal sealed class RemoteServerConfig
{
    public string? Url { get; set; }

    /// <summary><c>streamable_http</c> (default) or <c>sse</c> (the legacy HTTP+SSE transport of 2024-11-05).</summary>
    public string? Transport { get; set; }

    /// <summary>Extra request headers, e.g. an API key from <c>${env:…}</c>.</summary>
    public Dictionary<string, string>? Headers { get; set; }
}

/// <summary>A local process speaking MCP over stdio.</summary>
internal sealed class ProcessServerConfig
{
    public string? Command { get; set; }

    public List<string>? Args { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    /// <summary>Pass the gateway's whole environment to the process. Default false: only PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, TMPDIR and <c>env</c>.</summary>
    public bool? InheritEnv { get; set; }

    /// <summary>Working directory, relative to the config file. Default: the config file's directory.</summary>
    public string? WorkingDir { get; set; }
}
