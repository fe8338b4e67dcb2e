using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Model;

internal enum PolicyDecision : byte
{
    Allow,
    Deny,

    /// <summary>The caller's user is asked (elicitation) before the call goes on; refused where they cannot be asked.</summary>
    RequireApproval,
}

/// <summary>A compiled rule: what it matches and what it decides. <see cref="Source"/> says where it was declared.</summary>
internal sealed record PolicyRule(
    string Name,
    string Source,
    ImmutableArray<Glob> Servers,
    ImmutableArray<Glob> Tools,
    CallerMatch? Callers,
    ImmutableArray<ArgumentCondition> When,
    PolicyDecision Decision,
    string? Message)
{
    /// <summary>Whether the rule is about this server's tool at all (name globs only; callers and arguments are checked per call).</summary>
    public bool Covers(string server, string tool) => AnyMatch(Servers, server) && AnyMatch(Tools, tool);

    private static bool AnyMatch(ImmutableArray<Glob> globs, string name)
    {
        if (globs.IsDefaultOrEmpty)
        {
            return true;
        }

        foreach (var glob in globs)
        {
            if (glob.IsMatch(name))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Callers a rule applies to: these users, members of these teams, or principals of these kinds (any one suffices).</summary>
internal sealed record CallerMatch(FrozenSet<string> Users, FrozenSet<string> Teams, ImmutableArray<PrincipalKind> Kinds);

internal enum ConditionTest : byte
{
    Exists,
    Missing,
    EqualTo,
    NotEqualTo,
    In,
    NotIn,
    Glob,
    NotGlob,
    Regex,
    NotRegex,
    Min,
    Max,
}

/// <summary>One test on the value at <see cref="Path"/> (property names and array indexes) of a call's arguments.</summary>
internal sealed record ArgumentCondition(string Display, ImmutableArray<PathStep> Path, ConditionTest Test)
{
    /// <summary>For equality tests: the scalars compared with (as the YAML wrote them).</summary>
    public ImmutableArray<string> Values { get; init; } = [];

    public Glob? Pattern { get; init; }

    public Regex? Expression { get; init; }

    public double Bound { get; init; }
}

/// <summary>One step of an argument path: a property name, or an array index (<see cref="Name"/> null).</summary>
internal readonly record struct PathStep(string? Name, int Index);

/// <summary>Per-tool access on a tool assignment: only these users, or members of these teams, may call its tools.</summary>
internal sealed record ToolAccess(FrozenSet<string> Users, FrozenSet<string> Teams)
{
    /// <summary>The name per-tool access decisions go by in the audit trail and the metric.</summary>
    public const string RuleName = "tool-access";

    /// <summary>The deny rule this access amounts to for everyone else (its message lists who may call).</summary>
    public PolicyRule Rule { get; } = new(RuleName, "tools[].users/teams", [], [], null, [], PolicyDecision.Deny,
        string.Join(", ", Users.Order(StringComparer.Ordinal).Select(u => $"user {u}").Concat(Teams.Order(StringComparer.Ordinal).Select(t => $"team {t}"))));

    /// <summary>Whether <paramref name="caller"/> may call the tools: the organisation always (narrow its token with profiles:).</summary>
    public bool Allows(Identity.Principal caller) => caller.Kind == PrincipalKind.Org || caller.IsAmong(Users, Teams);
}
