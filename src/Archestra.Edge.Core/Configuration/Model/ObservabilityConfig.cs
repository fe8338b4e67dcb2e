namespace Archestra.Edge.Configuration.Model;

/// <summary>The <c>observability:</c> section.</summary>
internal sealed class ObservabilityConfig
{
    public AuditConfig? Audit { get; set; }
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
