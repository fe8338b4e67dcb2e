namespace Archestra.Edge.Configuration.Documents;

/// <summary>
/// One rule of a profile's <c>policies:</c> (or of the organisation-wide top-level <c>policies:</c>): which calls it
/// matches — servers, tools, callers, conditions on the arguments — and what it decides. Rules are tried in order, the
/// profile's before the organisation's; the first that matches decides; a call no rule matches is allowed.
/// </summary>
internal sealed class PolicyRuleConfig
{
    /// <summary>The rule's name: in the denied caller's message, the audit trail and the metrics. Unique per list.</summary>
    public string? Name { get; set; }

    /// <summary>Globs of server names. Default: every server.</summary>
    public List<string>? Servers { get; set; }

    /// <summary>Globs of upstream tool names. Default: every tool.</summary>
    public List<string>? Tools { get; set; }

    /// <summary>Whom the rule applies to. Default: everyone.</summary>
    public CallerMatchConfig? Callers { get; set; }

    /// <summary>Conditions on the call's arguments, all of which must hold. Default: none (the rule matches by name alone).</summary>
    public List<ArgumentConditionConfig?>? When { get; set; }

    /// <summary><c>allow</c>, <c>deny</c> or <c>require_approval</c>.</summary>
    public string? Decision { get; set; }

    /// <summary>What a denied caller (the model) is told, after the rule's name.</summary>
    public string? Message { get; set; }
}

/// <summary>Callers a rule applies to: any of the listed users, members of the listed teams, or principals of the listed kinds.</summary>
internal sealed class CallerMatchConfig
{
    public List<string>? Users { get; set; }

    public List<string>? Teams { get; set; }

    /// <summary><c>user</c>, <c>team</c>, <c>org</c>: the kind of credential.</summary>
    public List<string>? Kinds { get; set; }
}

/// <summary>
/// One condition on a call's arguments: the value at <see cref="Arg"/> (a dotted path into the arguments object,
/// <c>path</c>, <c>options.mode</c>, <c>edits[0].path</c>) and one or more tests, all of which must hold.
/// </summary>
internal sealed class ArgumentConditionConfig
{
    public string? Arg { get; set; }

    /// <summary>Whether the argument is present.</summary>
    public bool? Exists { get; set; }

    /// <summary>Equal to this scalar (strings compare as text, numbers as numbers, <c>true</c>/<c>false</c> as booleans).</summary>
    public string? EqualTo { get; set; }

    public string? NotEqualTo { get; set; }

    /// <summary>Equal to one of these.</summary>
    public List<string>? In { get; set; }

    public List<string>? NotIn { get; set; }

    /// <summary>A string matching this glob (<c>*</c> any run of characters, <c>/</c> included; <c>?</c> one; <c>[a-z]</c> a set).</summary>
    public string? Glob { get; set; }

    public string? NotGlob { get; set; }

    /// <summary>A string in which this regular expression finds a match (linear-time engine: no backtracking).</summary>
    public string? Regex { get; set; }

    public string? NotRegex { get; set; }

    /// <summary>A number at least this.</summary>
    public string? Min { get; set; }

    /// <summary>A number at most this.</summary>
    public string? Max { get; set; }
}
