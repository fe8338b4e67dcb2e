using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Policies;

/// <summary>What a refused caller (the model) reads.</summary>
internal static class PolicyMessages
{
    public static string Denied(PolicyRule rule, string server, string tool)
        => rule.Name == ToolAccess.RuleName
            ? $"Denied: {server}'s tool '{tool}' is open to {rule.Message} only"
            : $"Denied by policy '{rule.Name}': {rule.Message ?? $"{server}'s tool '{tool}' may not be called with these arguments"}";
}
