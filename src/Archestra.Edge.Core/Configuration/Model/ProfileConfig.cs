namespace Archestra.Edge.Configuration.Model;

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

    public List<AssignmentConfig?>? Resources { get; set; }
}

/// <summary>A server's tools assigned to a profile.</summary>
internal sealed class ToolAssignmentConfig
{
    public string? Server { get; set; }

    /// <summary>Glob patterns of upstream tool names to expose. Default: all.</summary>
    public List<string>? Include { get; set; }

    /// <summary>Glob patterns of upstream tool names to hide (applied after include).</summary>
    public List<string>? Exclude { get; set; }
}

/// <summary>A server's prompts or resources assigned to a profile.</summary>
internal sealed class AssignmentConfig
{
    public string? Server { get; set; }

    public List<string>? Include { get; set; }

    public List<string>? Exclude { get; set; }
}
