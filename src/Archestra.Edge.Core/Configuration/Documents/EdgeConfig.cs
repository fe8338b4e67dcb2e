namespace Archestra.Edge.Configuration.Documents;

/// <summary>
/// The root of <c>archestra.yaml</c>, exactly as written (the DTO layer). Keys are snake_case in YAML.
/// Values are validated and compiled into a <see cref="GatewaySnapshot"/>; nothing reads this type at run time.
/// </summary>
internal sealed class EdgeConfig
{
    /// <summary>Schema version of the file. Only 1 exists.</summary>
    public int? Version { get; set; }

    public ServerSectionConfig? Server { get; set; }

    public StorageConfig? Storage { get; set; }

    public LimitsConfig? Limits { get; set; }

    /// <summary>Upstream MCP servers by name.</summary>
    public Dictionary<string, UpstreamServerConfig>? Servers { get; set; }

    /// <summary>Profiles by name; each is served at <c>/v1/mcp/&lt;name&gt;</c>.</summary>
    public Dictionary<string, ProfileConfig>? Profiles { get; set; }

    /// <summary>The organisation's teams.</summary>
    public List<string>? Teams { get; set; }

    /// <summary>The organisation's users, by id.</summary>
    public Dictionary<string, UserConfig>? Users { get; set; }

    /// <summary>Upstream credentials by name, chosen per caller.</summary>
    public Dictionary<string, CredentialConfig>? Credentials { get; set; }

    public AuthConfig? Auth { get; set; }

    public ObservabilityConfig? Observability { get; set; }

    public RegistryConfig? Registry { get; set; }

    /// <summary>Organisation-wide rules on tool calls, tried after each profile's own.</summary>
    public List<PolicyRuleConfig?>? Policies { get; set; }
}
