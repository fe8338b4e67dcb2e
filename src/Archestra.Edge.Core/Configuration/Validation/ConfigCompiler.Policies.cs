using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private const int MaxRules = 1_000;
    private const int MaxPatternLength = 1_000;
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Each profile's rules (its own, then the organisation's), and per-tool access on its tool assignments.</summary>
    private ImmutableArray<ProfileModel> CompilePolicies(EdgeConfig config, ImmutableArray<ProfileModel> profiles, IdentityModel identity, AuthSettings auth)
    {
        var organisation = CompileRules(config.Policies, "policies", identity, auth);
        var compiled = ImmutableArray.CreateBuilder<ProfileModel>(profiles.Length);
        foreach (var profile in profiles)
        {
            var section = config.Profiles?.GetValueOrDefault(profile.Name);
            var own = CompileRules(section?.Policies, $"profiles.{profile.Name}.policies", identity, auth);
            var tools = profile.Tools;
            if (section?.Tools is { } assignments)
            {
                // A server is assigned at most once per list, so the compiled assignment is found by its server.
                var builder = tools.ToBuilder();
                for (var i = 0; i < assignments.Count; i++)
                {
                    if (assignments[i] is not { Server: { } server } assignment || (assignment.Users is null && assignment.Teams is null))
                    {
                        continue;
                    }

                    var path = $"profiles.{profile.Name}.tools[{i}]";
                    var users = Users(assignment.Users, $"{path}.users", identity);
                    var teams = Teams(assignment.Teams, $"{path}.teams", identity);
                    if (!auth.Enabled)
                    {
                        _diagnostics.Add(path, "users: and teams: on a tool assignment need an auth: section (without it nobody is authenticated)", "add auth: with bearer tokens or oauth");
                    }

                    for (var k = 0; k < builder.Count; k++)
                    {
                        if (builder[k].Server == server)
                        {
                            builder[k] = builder[k] with { Access = new ToolAccess(users, teams) };
                        }
                    }
                }

                tools = builder.ToImmutable();
            }

            compiled.Add(profile with { Policies = own.AddRange(organisation), Tools = tools });
        }

        return compiled.MoveToImmutable();
    }

    private ImmutableArray<PolicyRule> CompileRules(List<PolicyRuleConfig?>? rules, string path, IdentityModel identity, AuthSettings auth)
    {
        if (rules is null || rules.Count == 0)
        {
            return [];
        }

        if (rules.Count > MaxRules)
        {
            _diagnostics.Add(path, $"{rules.Count} rules; at most {MaxRules} are allowed in one list");
            return [];
        }

        var compiled = ImmutableArray.CreateBuilder<PolicyRule>(rules.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rulePath = $"{path}[{i}]";
            if (rules[i] is not { } rule)
            {
                _diagnostics.Add(rulePath, "a rule must be a mapping", "name:, decision:, and what it matches (servers:, tools:, callers:, when:)");
                continue;
            }

            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                _diagnostics.Add(rulePath, "a rule needs a name", "the name is shown to a denied caller and kept in the audit trail");
                continue;
            }

            if (!names.Add(rule.Name))
            {
                _diagnostics.Add($"{rulePath}.name", $"two rules are named '{rule.Name}' in this list");
            }

            PolicyDecision? decision = rule.Decision switch
            {
                "allow" => PolicyDecision.Allow,
                "deny" => PolicyDecision.Deny,
                "require_approval" => PolicyDecision.RequireApproval,
                _ => null,
            };
            if (decision is null)
            {
                _diagnostics.Add(rule.Decision is null ? rulePath : $"{rulePath}.decision",
                    rule.Decision is null ? "a rule needs a decision" : $"'{rule.Decision}' is not one of allow, deny, require_approval");
                continue;
            }

            CallerMatch? callers = null;
            if (rule.Callers is { } who)
            {
                if (!auth.Enabled)
                {
                    _diagnostics.Add($"{rulePath}.callers", "callers: needs an auth: section (without it every caller is the same anonymous one)", "add auth: with bearer tokens or oauth");
                }

                var kinds = ImmutableArray.CreateBuilder<PrincipalKind>();
                for (var k = 0; k < (who.Kinds?.Count ?? 0); k++)
                {
                    switch (who.Kinds![k])
                    {
                        case "user": kinds.Add(PrincipalKind.User); break;
                        case "team": kinds.Add(PrincipalKind.Team); break;
                        case "org": kinds.Add(PrincipalKind.Org); break;
                        default: _diagnostics.Add($"{rulePath}.callers.kinds[{k}]", $"'{who.Kinds[k]}' is not one of user, team, org"); break;
                    }
                }

                callers = new CallerMatch(
                    Users(who.Users, $"{rulePath}.callers.users", identity),
                    Teams(who.Teams, $"{rulePath}.callers.teams", identity),
                    kinds.ToImmutable());
            }

            var conditions = ImmutableArray.CreateBuilder<ArgumentCondition>();
            for (var c = 0; c < (rule.When?.Count ?? 0); c++)
            {
                CompileCondition(rule.When![c], $"{rulePath}.when[{c}]", conditions);
            }

            compiled.Add(new PolicyRule(
                rule.Name,
                path,
                CompileGlobs(rule.Servers, $"{rulePath}.servers"),
                CompileGlobs(rule.Tools, $"{rulePath}.tools"),
                callers,
                conditions.ToImmutable(),
                decision.Value,
                rule.Message));
        }

        return compiled.ToImmutable();
    }

    private void CompileCondition(ArgumentConditionConfig? condition, string path, ImmutableArray<ArgumentCondition>.Builder into)
    {
        if (condition is null || string.IsNullOrWhiteSpace(condition.Arg))
        {
            _diagnostics.Add(path, "a condition needs arg: (a path into the arguments, e.g. path or options.mode or edits[0].path)");
            return;
        }

        if (!TryParseArgumentPath(condition.Arg, out var steps))
        {
            _diagnostics.Add($"{path}.arg", $"'{condition.Arg}' is not an argument path", "property names separated by dots, array indexes in brackets: edits[0].path");
            return;
        }

        var before = into.Count;
        void Add(ConditionTest test, Func<ArgumentCondition, ArgumentCondition>? with = null)
        {
            var made = new ArgumentCondition(condition.Arg, steps, test);
            into.Add(with is null ? made : with(made));
        }

        if (condition.Exists is { } exists)
        {
            Add(exists ? ConditionTest.Exists : ConditionTest.Missing);
        }

        if (condition.EqualTo is { } equal)
        {
            Add(ConditionTest.EqualTo, c => c with { Values = [equal] });
        }

        if (condition.NotEqualTo is { } notEqual)
        {
            Add(ConditionTest.NotEqualTo, c => c with { Values = [notEqual] });
        }

        if (condition.In is { } any)
        {
            Add(ConditionTest.In, c => c with { Values = [.. any] });
        }

        if (condition.NotIn is { } none)
        {
            Add(ConditionTest.NotIn, c => c with { Values = [.. none] });
        }

        foreach (var (text, test, key) in new[] { (condition.Glob, ConditionTest.Glob, "glob"), (condition.NotGlob, ConditionTest.NotGlob, "not_glob") })
        {
            if (text is null)
            {
                continue;
            }

            if (Glob.TryParse(text, out var glob, out var error))
            {
                Add(test, c => c with { Pattern = glob });
            }
            else
            {
                _diagnostics.Add($"{path}.{key}", $"'{text}' is not a glob: {error}");
            }
        }

        foreach (var (text, test, key) in new[] { (condition.Regex, ConditionTest.Regex, "regex"), (condition.NotRegex, ConditionTest.NotRegex, "not_regex") })
        {
            if (text is null)
            {
                continue;
            }

            if (text.Length > MaxPatternLength)
            {
                _diagnostics.Add($"{path}.{key}", $"the expression is {text.Length} characters long; at most {MaxPatternLength}");
                continue;
            }

            try
            {
                // Linear time whatever the input: a rule cannot be made to spin on a hostile argument.
                var expression = new Regex(text, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, s_regexTimeout);
                Add(test, c => c with { Expression = expression });
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                _diagnostics.Add($"{path}.{key}", $"'{text}' is not a regular expression this gateway runs: {ex.Message}",
                    "the engine is linear-time: no backreferences, lookarounds or atomic groups");
            }
        }

        foreach (var (text, test, key) in new[] { (condition.Min, ConditionTest.Min, "min"), (condition.Max, ConditionTest.Max, "max") })
        {
            if (text is null)
            {
                continue;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound) && double.IsFinite(bound))
            {
                Add(test, c => c with { Bound = bound });
            }
            else
            {
                _diagnostics.Add($"{path}.{key}", $"'{text}' is not a number");
            }
        }

        var anyTest = condition.Exists is not null || condition.EqualTo is not null || condition.NotEqualTo is not null || condition.In is not null
            || condition.NotIn is not null || condition.Glob is not null || condition.NotGlob is not null || condition.Regex is not null
            || condition.NotRegex is not null || condition.Min is not null || condition.Max is not null;
        if (into.Count == before && !anyTest)
        {
            _diagnostics.Add(path, $"the condition on '{condition.Arg}' has no test",
                "one or more of exists, equal_to, not_equal_to, in, not_in, glob, not_glob, regex, not_regex, min, max");
        }
    }

    /// <summary><c>a.b[0].c</c> → steps; false for an empty segment, a bad index, or more than 16 steps.</summary>
    internal static bool TryParseArgumentPath(string text, out ImmutableArray<PathStep> steps)
    {
        var builder = ImmutableArray.CreateBuilder<PathStep>();
        steps = [];
        var span = text.AsSpan();
        if (span.StartsWith("$."))
        {
            span = span[2..];
        }

        while (!span.IsEmpty)
        {
            var end = span.IndexOfAny('.', '[');
            var name = end < 0 ? span : span[..end];
            if (name.IsEmpty)
            {
                return false;
            }

            builder.Add(new PathStep(name.ToString(), 0));
            span = end < 0 ? default : span[end..];
            while (span.StartsWith("["))
            {
                var close = span.IndexOf(']');
                if (close < 2 || !int.TryParse(span[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return false;
                }

                builder.Add(new PathStep(null, index));
                span = span[(close + 1)..];
            }

            if (span.StartsWith("."))
            {
                span = span[1..];
                if (span.IsEmpty)
                {
                    return false;
                }
            }
            else if (!span.IsEmpty)
            {
                return false;
            }

            if (builder.Count > 16)
            {
                return false;
            }
        }

        steps = builder.ToImmutable();
        return steps.Length > 0;
    }
}
