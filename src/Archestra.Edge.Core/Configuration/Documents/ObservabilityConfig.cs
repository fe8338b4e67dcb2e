namespace Archestra.Edge.Configuration.Documents;

/// <summary>The <c>observability:</c> section.</summary>
internal sealed class ObservabilityConfig
{
    public AuditConfig? Audit { get; set; }

    public LogsConfig? Logs { get; set; }

    public TracingConfig? Tracing { get; set; }

    public MetricsConfig? Metrics { get; set; }
}

/// <summary>The gateway's own log.</summary>
internal sealed class LogsConfig
{
    /// <summary><c>console</c> (default: one line per event) or <c>json</c> (one JSON object per line, with the event id).</summary>
    public string? Format { get; set; }

    /// <summary>
    /// The least severe events logged: <c>trace</c>, <c>debug</c>, <c>information</c> (default), <c>warning</c>,
    /// <c>error</c>, <c>critical</c>. <c>serve --log-level</c> overrides it.
    /// </summary>
    public string? Level { get; set; }
}

/// <summary>Prometheus metrics.</summary>
internal sealed class MetricsConfig
{
    /// <summary>Where the Prometheus text is served. Default <c>/metrics</c>.</summary>
    public string? Path { get; set; }
}

/// <summary>OpenTelemetry traces: a span per relayed call, exported over OTLP/HTTP.</summary>
internal sealed class TracingConfig
{
    /// <summary>The collector, e.g. <c>http://127.0.0.1:4318</c> (spans go to <c>/v1/traces</c> under it). Unset: no tracing.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The <c>service.name</c> resource attribute. Default <c>archestra-edge</c>.</summary>
    public string? ServiceName { get; set; }

    /// <summary>Extra headers for the collector (e.g. an API key via <c>${env:…}</c>).</summary>
    public Dictionary<string, string>? Headers { get; set; }
}

/// <summary>The audit trail: every tool call, prompt get and resource read, in <c>data_dir/archestra.db</c>.</summary>
internal sealed class AuditConfig
{
    /// <summary>Default true.</summary>
    public bool? Enabled { get; set; }

    /// <summary><c>redacted</c> (default: argument names kept, values hidden), <c>full</c> or <c>none</c>.</summary>
    public string? Arguments { get; set; }

    /// <summary>How long records are kept. Default <c>30d</c>.</summary>
    public string? Retention { get; set; }
}

/// <summary>The <c>registry:</c> section: catalogs of MCP servers for <c>archestra-edge registry search|show|add</c>.</summary>
internal sealed class RegistryConfig
{
    /// <summary>Files in the official registry's <c>server.json</c> format (one entry, an array, or <c>{ "servers": [...] }</c>), relative to this file.</summary>
    public List<string>? Catalogs { get; set; }
}
