using System.Runtime.CompilerServices;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Policies;

/// <summary>What a refused caller (the model) reads, and per-tool access as a rule of its own.</summary>
internal static class PolicyMessages
{
    /// <summary>The name per-tool access decisions go by in the audit trail and the metric.</summary>
    public const string AccessRuleName = "tool-access";

    private static readonly ConditionalWeakTable<ToolAccess, PolicyRule> s_accessRules = [];

    public static string Denied(PolicyRule rule, string server, string tool)
        => rule.Name == AccessRuleName
            ? $"Denied: {server}'s tool '{tool}' is open to {Describe(rule)} only"
            : $"Denied by policy '{rule.Name}': {rule.Message ?? $"{server}'s tool '{tool}' may not be called with these arguments"}";

    /// <summary>Whether <paramref name="caller"/> may call tools of an assignment restricted to some users and teams.</summary>
    public static bool MayCall(ToolAccess access, Identity.Principal caller)
    {
        switch (caller.Kind)
        {
            case PrincipalKind.Org:
                return true; // the organisation owns every tool; narrow an org token with profiles: when that is too much
            case PrincipalKind.Team:
                return access.Teams.Contains(caller.Id);
            default:
                if (access.Users.Contains(caller.Id))
                {
                    return true;
                }

                foreach (var team in caller.Teams)
                {
                    if (access.Teams.Contains(team))
                    {
                        return true;
                    }
                }

                return false;
        }
    }

    /// <summary>The deny rule an assignment's access amounts to (one per assignment, made once).</summary>
    public static PolicyRule AccessRule(ToolAccess access)
        => s_accessRules.GetValue(access, static a => new PolicyRule(AccessRuleName, "tools[].users/teams", [], [], null, [], PolicyDecision.Deny,
            string.Join(", ", a.Users.Order(StringComparer.Ordinal).Select(u => $"user {u}").Concat(a.Teams.Order(StringComparer.Ordinal).Select(t => $"team {t}")))));

    private static string Describe(PolicyRule rule) => rule.Message ?? "some callers";
}
