using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Policies;

/// <summary>What the rules say about one call: the decision and the rule that made it (null: no rule matched, allowed).</summary>
internal readonly record struct PolicyVerdict(PolicyDecision Decision, PolicyRule? Rule)
{
    /// <summary>The audit trail's and the metric's word for it: <c>deny</c>, <c>allow</c>, <c>require_approval</c>.</summary>
    public string Label => Decision switch
    {
        PolicyDecision.Deny => "deny",
        PolicyDecision.RequireApproval => "require_approval",
        _ => "allow",
    };
}

/// <summary>
/// A profile's rules on tool calls, compiled once per reload. A call is judged only by the rules that cover its tool:
/// the list per (server, tool) is worked out on its first call and kept (at most <see cref="MaxTools"/> tools; past
/// that the table starts over). Arguments are parsed only when a rule that covers the tool and matches the caller
/// has conditions, and then once for all of them; the rest of the time a call costs a dictionary lookup.
/// </summary>
internal sealed class ProfilePolicies
{
    internal const int MaxTools = 10_000;

    private readonly PolicyRule[] _rules;
    private readonly ConcurrentDictionary<(string Server, string Tool), PolicyRule[]> _byTool = new();

    public ProfilePolicies(IReadOnlyList<PolicyRule> rules)
    {
        _rules = [.. rules];
    }

    public bool IsEmpty => _rules.Length == 0;

    /// <summary>The first rule that matches decides; no rule matching allows.</summary>
    public PolicyVerdict Decide(string server, string tool, Identity.Principal caller, ReadOnlyMemory<byte> arguments)
    {
        if (_rules.Length == 0)
        {
            return default;
        }

        var rules = RulesOf(server, tool);
        JsonDocument? document = null;
        try
        {
            foreach (var rule in rules)
            {
                if (rule.Callers is { } callers && !Matches(callers, caller))
                {
                    continue;
                }

                if (!rule.When.IsDefaultOrEmpty)
                {
                    document ??= Parse(arguments);
                    if (!Holds(rule, document.RootElement))
                    {
                        continue;
                    }
                }

                return new PolicyVerdict(rule.Decision, rule);
            }

            return default;
        }
        finally
        {
            document?.Dispose();
        }
    }

    private PolicyRule[] RulesOf(string server, string tool)
    {
        if (_byTool.TryGetValue((server, tool), out var rules))
        {
            return rules;
        }

        rules = [.. _rules.Where(r => r.Covers(server, tool))];
        if (_byTool.Count >= MaxTools)
        {
            _byTool.Clear();
        }

        _byTool[(server, tool)] = rules;
        return rules;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> arguments)
    {
        if (!arguments.IsEmpty)
        {
            try
            {
                // Over the request's own bytes (the document lives no longer than this call's judging).
                return JsonDocument.Parse(arguments, new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException)
            {
            }
        }

        return JsonDocument.Parse("{}"u8.ToArray());
    }

    internal static bool Matches(CallerMatch callers, Identity.Principal caller)
        => (!callers.Kinds.IsDefaultOrEmpty && callers.Kinds.Contains(caller.Kind)) || caller.IsAmong(callers.Users, callers.Teams);

    /// <summary>Whether every condition of <paramref name="rule"/> holds on the arguments.</summary>
    internal static bool Holds(PolicyRule rule, JsonElement arguments)
    {
        foreach (var condition in rule.When)
        {
            if (!Holds(condition, arguments))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Holds(ArgumentCondition condition, JsonElement arguments)
    {
        var found = Find(arguments, condition, out var value);
        return condition.Test switch
        {
            ConditionTest.Exists => found,
            ConditionTest.Missing => !found,
            ConditionTest.EqualTo => found && EqualsAny(value, condition),
            ConditionTest.NotEqualTo => !found || !EqualsAny(value, condition),
            ConditionTest.In => found && EqualsAny(value, condition),
            ConditionTest.NotIn => !found || !EqualsAny(value, condition),
            ConditionTest.Glob => found && value.ValueKind == JsonValueKind.String && condition.Pattern!.IsMatch(value.GetString()),
            // Not a string, or missing: it is not under the pattern (a deny-unless rule fails closed).
            ConditionTest.NotGlob => !found || value.ValueKind != JsonValueKind.String || !condition.Pattern!.IsMatch(value.GetString()),
            ConditionTest.Regex => found && value.ValueKind == JsonValueKind.String && Search(condition.Expression!, value.GetString()!),
            ConditionTest.NotRegex => !found || value.ValueKind != JsonValueKind.String || !Search(condition.Expression!, value.GetString()!),
            ConditionTest.Min => found && value.ValueKind == JsonValueKind.Number && value.GetDouble() >= condition.Bound,
            ConditionTest.Max => found && value.ValueKind == JsonValueKind.Number && value.GetDouble() <= condition.Bound,
            _ => false,
        };
    }

    private static bool Search(Regex expression, string text)
    {
        try
        {
            return expression.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return true; // cannot say it does not: the rule applies
        }
    }

    private static bool Find(JsonElement root, ArgumentCondition condition, out JsonElement value)
    {
        value = root;
        foreach (var step in condition.Path)
        {
            if (step.Name is { } name)
            {
                if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(name, out value))
                {
                    return false;
                }
            }
            else if (value.ValueKind != JsonValueKind.Array || step.Index >= value.GetArrayLength())
            {
                return false;
            }
            else
            {
                value = value[step.Index];
            }
        }

        return true;
    }

    private static bool EqualsAny(JsonElement value, ArgumentCondition condition)
    {
        foreach (var expected in condition.Values)
        {
            var equal = value.ValueKind switch
            {
                JsonValueKind.String => value.ValueEquals(expected),
                JsonValueKind.Number => double.TryParse(expected, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && value.GetDouble() == number,
                JsonValueKind.True => expected == "true",
                JsonValueKind.False => expected == "false",
                JsonValueKind.Null => expected is "null" or "~" or "",
                _ => false,
            };
            if (equal)
            {
                return true;
            }
        }

        return false;
    }
}
