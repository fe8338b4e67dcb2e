namespace Archestra.Edge.Configuration.Documents;

/// <summary>One upstream MCP server. Exactly one of <c>remote</c>, <c>process</c>, <c>container</c> or <c>builtin</c> is set.</summary>
internal sealed class UpstreamServerConfig
{
    public RemoteServerConfig? Remote { get; set; }

    public ProcessServerConfig? Process { get; set; }

    /// <summary>A server run in a podman or docker container from a local image.</summary>
    public ContainerServerConfig? Container { get; set; }

    /// <summary>An embedded server; the only one is <c>archestra</c>.</summary>
    public string? Builtin { get; set; }

    /// <summary>Time a call to this server may take. Default: <c>limits.call_timeout</c>.</summary>
    public string? CallTimeout { get; set; }

    /// <summary>
    /// Time a server may take to start and answer <c>initialize</c> (a container, an <c>npx</c> package fetched on first
    /// use). Default <c>60s</c>. A call waiting for the start still gives up after its own <c>call_timeout</c>; the start
    /// goes on, so the next call finds the server ready.
    /// </summary>
    public string? StartTimeout { get; set; }

    /// <summary>Copies of a process server to run; calls are spread over the ready ones. Default 1.</summary>
    public int? Replicas { get; set; }

    /// <summary>
    /// <c>shared</c> (default): all downstream sessions share one upstream session per replica.
    /// <c>per_session</c>: each downstream session gets its own upstream session (its own process), closed with it.
    /// </summary>
    public string? Sharing { get; set; }

    /// <summary><c>lazy</c> (default): started on first use. <c>eager</c>: started with the gateway and kept running.</summary>
    public string? Start { get; set; }

    /// <summary>Stop a lazy process or container after this long without calls. Default: never.</summary>
    public string? IdleStop { get; set; }

    /// <summary>How a process or container that exits or fails to start is restarted.</summary>
    public RestartConfig? Restart { get; set; }

    /// <summary>Liveness checks by MCP <c>ping</c>.</summary>
    public HealthConfig? Health { get; set; }

    /// <summary>
    /// How often the gateway re-reads the lists of a server that does not announce list changes. Default <c>5m</c>;
    /// <c>off</c> never.
    /// </summary>
    public string? ListRefresh { get; set; }

    /// <summary>
    /// Compare this server's tool and prompt definitions with the lock file next to the config (written by
    /// <c>archestra-edge pin</c>): <c>off</c> (default), <c>warn</c> (serve a changed or new item, and report it) or
    /// <c>block</c> (withhold it from lists and refuse calls to it, and report it).
    /// </summary>
    public string? Pinning { get; set; }
}

/// <summary>A remote server reached over HTTP.</summary>
internal sealed class RemoteServerConfig
{
    public string? Url { get; set; }

    /// <summary><c>streamable_http</c> (default) or <c>sse</c> (the legacy HTTP+SSE transport of 2024-11-05).</summary>
    public string? Transport { get; set; }

    /// <summary>Extra request headers, e.g. an API key from <c>${env:…}</c>.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>
    /// The server wants OAuth (the MCP authorization spec): the gateway is its client, discovers its authorization
    /// server, and calls it with the caller's connection, their team's or the organisation's (see <c>owners</c>).
    /// </summary>
    public RemoteOAuthConfig? Oauth { get; set; }
}

/// <summary>How the gateway identifies itself to a remote server's authorization server.</summary>
internal sealed class RemoteOAuthConfig
{
    /// <summary>A client registered with the authorization server beforehand. Default: registered on first connect (RFC 7591).</summary>
    public string? ClientId { get; set; }

    /// <summary>That client's secret, from <c>${env:…}</c> or <c>${file:…}</c> (none for a public client).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Scopes to ask for. Default: those of the server's challenge, else its metadata's <c>scopes_supported</c>.</summary>
    public List<string>? Scopes { get; set; }

    /// <summary>
    /// <c>authorization_code</c> (default: a person connects with <c>connections connect</c>) or
    /// <c>client_credentials</c> (a machine connection: the gateway gets its own tokens with <c>client_id</c> and
    /// <c>client_secret</c>, no browser).
    /// </summary>
    public string? Grant { get; set; }

    /// <summary>
    /// Whose connection a caller's calls use, tried in this order: <c>user</c> (the caller's own, made on the gateway's
    /// <c>/connect</c> page), <c>team</c> (their team's), <c>org</c> (the organisation's). Default
    /// <c>[user, team, org]</c>; a machine connection (<c>client_credentials</c>) is the organisation's only.
    /// </summary>
    public List<string>? Owners { get; set; }
}

/// <summary>A local process speaking MCP over stdio.</summary>
internal sealed class ProcessServerConfig
{
    public string? Command { get; set; }

    public List<string>? Args { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    /// <summary>Pass the gateway's whole environment to the process. Default false: only the basics (PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_ALL, TZ, TMPDIR), the network plumbing a package runner needs (proxies, CA bundles, npm/pip/uv index URLs) and <c>env</c>.</summary>
    public bool? InheritEnv { get; set; }

    /// <summary>Working directory, relative to the config file. Default: the config file's directory.</summary>
    public string? WorkingDir { get; set; }
}

/// <summary>A server in a container, started with the podman or docker command line.</summary>
internal sealed class ContainerServerConfig
{
    /// <summary><c>podman</c> or <c>docker</c>. Default: podman if it is on the gateway's PATH, else docker.</summary>
    public string? Runtime { get; set; }

    /// <summary>A local image, e.g. <c>localhost/mcp-jira:1.2</c>; it is never pulled.</summary>
    public string? Image { get; set; }

    /// <summary>Arguments after the image (the container's command).</summary>
    public List<string>? Args { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    /// <summary><c>stdio</c> (default) or <c>http</c> (then <c>port</c> and <c>path</c>).</summary>
    public string? Transport { get; set; }

    /// <summary>The port the server listens on inside the container (http); published on a random loopback port.</summary>
    public int? Port { get; set; }

    /// <summary>The MCP endpoint path inside the container (http). Default <c>/mcp</c>.</summary>
    public string? Path { get; set; }

    /// <summary><c>none</c> (default: no network at all) or a network the runtime knows, e.g. <c>bridge</c>.</summary>
    public string? Network { get; set; }

    /// <summary>Memory cap, e.g. <c>512m</c>.</summary>
    public string? Memory { get; set; }

    /// <summary>CPU cap, e.g. <c>1</c> or <c>0.5</c>.</summary>
    public string? Cpus { get; set; }

    /// <summary>Bind mounts, <c>host:container[:ro]</c>; host paths relative to the config file.</summary>
    public List<string>? Mounts { get; set; }
}

/// <summary>The <c>restart:</c> policy of a process or container server.</summary>
internal sealed class RestartConfig
{
    /// <summary>Delay before the second restart in a row. Default <c>1s</c>; it doubles (with jitter) up to <c>max_backoff</c>.</summary>
    public string? InitialBackoff { get; set; }

    /// <summary>Longest delay between restarts. Default <c>30s</c>.</summary>
    public string? MaxBackoff { get; set; }

    /// <summary>After this many failures in a row the server is in a crash loop and left alone for <c>crash_loop_pause</c>. Default 5.</summary>
    public int? CrashLoopAfter { get; set; }

    /// <summary>How long a crash-looping server is left alone. Default <c>5m</c>.</summary>
    public string? CrashLoopPause { get; set; }
}

/// <summary>The <c>health:</c> checks of a server.</summary>
internal sealed class HealthConfig
{
    /// <summary>Ping a running server this often. Default <c>30s</c>; <c>off</c> disables.</summary>
    public string? PingInterval { get; set; }

    /// <summary>A ping not answered within this is a failure: the server is restarted. Default <c>5s</c>.</summary>
    public string? PingTimeout { get; set; }
}
