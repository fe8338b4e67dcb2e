using Archestra.Edge.Model;

namespace Archestra.Edge.Configuration.Documents;

/// <summary>A profile: the tools, prompts and resources one endpoint exposes.</summary>
internal sealed class ProfileConfig
{
    /// <summary>Human title, shown as the server title to clients.</summary>
    public string? Title { get; set; }

    public string? Description { get; set; }

    /// <summary>Instructions returned to clients in the initialize result.</summary>
    public string? Instructions { get; set; }

    /// <summary><c>prefixed</c> (default: <c>server__tool</c>) or <c>bare</c>.</summary>
    public string? Naming { get; set; }

    /// <summary>Between server and tool name when prefixed. Default <c>__</c>.</summary>
    public string? Separator { get; set; }

    public List<ToolAssignmentConfig?>? Tools { get; set; }

    public List<AssignmentConfig?>? Prompts { get; set; }

    public List<ResourceAssignmentConfig?>? Resources { get; set; }

    /// <summary>Who may use the profile (required when <c>auth:</c> is configured).</summary>
    public AccessConfig? Access { get; set; }

    /// <summary>Rules on this profile's tool calls, tried before the organisation's.</summary>
    public List<PolicyRuleConfig?>? Policies { get; set; }

    /// <summary>Scanning of this profile's tool results, prompt results and resource contents for secrets and personal data.</summary>
    public RedactionConfig? Redaction { get; set; }
}

/// <summary>
/// What a profile does with secrets and personal data found in results: for each category <c>off</c>, <c>flag</c>
/// (audit and count only), <c>redact</c> (replace each finding with <c>[REDACTED:kind]</c>, JSON kept) or <c>block</c>
/// (withhold the whole result).
/// </summary>
internal sealed class RedactionConfig
{
    /// <summary>Private keys, cloud keys, GitHub/GitLab/Slack/Stripe/AI tokens, JWTs, <c>archestra_</c> tokens, high-entropy <c>secret = …</c> assignments. Default <c>redact</c>.</summary>
    public string? Secrets { get; set; }

    /// <summary>E-mail addresses, phone numbers, payment card numbers (Luhn-checked). Default <c>off</c>.</summary>
    public string? PersonalData { get; set; }

    /// <summary>Which personal data: any of <c>email</c>, <c>phone</c>, <c>card</c>. Default: all three.</summary>
    public List<string>? PersonalDataKinds { get; set; }
}

/// <summary>A server's tools assigned to a profile.</summary>
internal sealed class ToolAssignmentConfig
{
    public string? Server { get; set; }

    /// <summary>Glob patterns of upstream tool names to expose. Default: all.</summary>
    public List<string>? Include { get; set; }

    /// <summary>Glob patterns of upstream tool names to hide (applied after include).</summary>
    public List<string>? Exclude { get; set; }

    /// <summary>Upstream tool name → the name exposed instead (still prefixed under <c>naming: prefixed</c>).</summary>
    public Dictionary<string, string>? Rename { get; set; }

    /// <summary>Upstream tool name → the description exposed instead of the server's.</summary>
    public Dictionary<string, string>? Describe { get; set; }

    /// <summary>
    /// Upstream tool name → arguments set by the gateway on every call: removed from the advertised input schema,
    /// injected into each call, and never overridable by the caller. Values are any YAML (they become JSON).
    /// </summary>
    public Dictionary<string, Dictionary<string, string>>? FixedArguments { get; set; }

    /// <summary>Only these users may call these tools (with <see cref="Teams"/>: either). Default: whoever may use the profile.</summary>
    public List<string>? Users { get; set; }

    /// <summary>Only members of these teams may call these tools.</summary>
    public List<string>? Teams { get; set; }
}

/// <summary>A server's prompts assigned to a profile.</summary>
internal sealed class AssignmentConfig
{
    public string? Server { get; set; }

    /// <summary>Glob patterns of upstream prompt names to expose. Default: all.</summary>
    public List<string>? Include { get; set; }

    /// <summary>Glob patterns of upstream prompt names to hide (applied after include).</summary>
    public List<string>? Exclude { get; set; }

    /// <summary>Upstream prompt name → the name exposed instead (still prefixed under <c>naming: prefixed</c>).</summary>
    public Dictionary<string, string>? Rename { get; set; }

    /// <summary>Upstream prompt name → the description exposed instead of the server's.</summary>
    public Dictionary<string, string>? Describe { get; set; }
}

/// <summary>A server's resources and resource templates assigned to a profile.</summary>
internal sealed class ResourceAssignmentConfig
{
    public string? Server { get; set; }

    /// <summary>Glob patterns of upstream resource URIs (and URI templates) to expose. Default: all.</summary>
    public List<string>? Include { get; set; }

    /// <summary>Glob patterns of upstream resource URIs (and URI templates) to hide (applied after include).</summary>
    public List<string>? Exclude { get; set; }
}
