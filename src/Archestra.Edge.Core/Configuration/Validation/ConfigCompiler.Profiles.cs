using System.Collections.Immutable;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Configuration.Yaml;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private ImmutableArray<ProfileModel> CompileProfiles(Dictionary<string, ProfileConfig>? profiles, IEnumerable<string> declaredServers)
    {
        var result = ImmutableArray.CreateBuilder<ProfileModel>();
        if (profiles is null || profiles.Count == 0)
        {
            _diagnostics.Add("profiles", "no profiles are defined", "add a profiles: section; each profile is served at /v1/mcp/<name>");
            return result.ToImmutable();
        }

        var serverNames = new HashSet<string>(declaredServers, StringComparer.Ordinal);

        foreach (var (name, profile) in profiles)
        {
            var path = $"profiles.{name}";
            if (!IsValidName(name))
            {
                _diagnostics.Add(path, $"'{name}' is not a valid profile name", "use 1-64 letters, digits, '_', '-' or '.'; it becomes the URL /v1/mcp/<name>");
            }

            var config = profile ?? new ProfileConfig();
            var naming = config.Naming switch
            {
                null or "prefixed" => ToolNaming.Prefixed,
                "bare" => ToolNaming.Bare,
                _ => Invalid(path + ".naming", $"unknown naming '{config.Naming}'", "use prefixed (server__tool) or bare"),
            };

            var separator = config.Separator ?? ProfileModel.DefaultSeparator;
            if (!IsValidSeparator(separator))
            {
                _diagnostics.Add($"{path}.separator", $"'{separator}' is not a valid separator", "use 1-8 of the characters allowed in tool names: letters, digits, '_', '-', '.'");
            }

            var tools = CompileAssignments(config.Tools?.ConvertAll(t => t is null ? null : new AssignmentInput(t.Server, t.Include, t.Exclude, t.Rename, t.Describe, t.FixedArguments)), $"{path}.tools", serverNames);
            var prompts = CompileAssignments(config.Prompts?.ConvertAll(p => p is null ? null : new AssignmentInput(p.Server, p.Include, p.Exclude, p.Rename, p.Describe, null)), $"{path}.prompts", serverNames);
            var resources = CompileAssignments(config.Resources?.ConvertAll(r => r is null ? null : new AssignmentInput(r.Server, r.Include, r.Exclude, null, null, null)), $"{path}.resources", serverNames);

            if (naming == ToolNaming.Prefixed)
            {
                CheckPrefixable(tools, $"{path}.tools", separator);
                CheckPrefixable(prompts, $"{path}.prompts", separator);
                CheckUriPrefixable(resources, $"{path}.resources");
            }
            else
            {
                CheckBareCollisions(tools, $"{path}.tools", "tool");
                CheckBareCollisions(prompts, $"{path}.prompts", "prompt");
            }

            result.Add(new ProfileModel(name, config.Title, config.Description, config.Instructions, naming, separator, tools, prompts, resources)
            {
                Redaction = CompileRedaction(config.Redaction, $"{path}.redaction"),
            });
        }

        return result.ToImmutable();
    }

    private ToolNaming Invalid(string path, string message, string hint)
    {
        _diagnostics.Add(path, message, hint);
        return ToolNaming.Prefixed;
    }

    /// <summary>An assignment of any kind, as written; curation keys are null where the kind has none.</summary>
    private sealed record AssignmentInput(
        string? Server,
        List<string>? Include,
        List<string>? Exclude,
        Dictionary<string, string>? Rename,
        Dictionary<string, string>? Describe,
        Dictionary<string, Dictionary<string, string>>? FixedArguments);

    private ImmutableArray<AssignmentModel> CompileAssignments(List<AssignmentInput?>? assignments, string path, HashSet<string> serverNames)
    {
        var result = ImmutableArray.CreateBuilder<AssignmentModel>();
        if (assignments is null)
        {
            return result.ToImmutable();
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < assignments.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            var assignment = assignments[i];
            if (assignment?.Server is not { } server)
            {
                _diagnostics.Add(itemPath, "an assignment needs a server");
                continue;
            }

            if (!serverNames.Contains(server))
            {
                var suggestion = Spelling.Closest(server, serverNames);
                _diagnostics.Add($"{itemPath}.server", $"server '{server}' is not defined",
                    suggestion is not null ? $"did you mean '{suggestion}'? servers are defined under servers:" : "define it under servers:, or fix the name");
                continue;
            }

            if (!seen.Add(server))
            {
                _diagnostics.Add($"{itemPath}.server", $"server '{server}' is assigned twice", "merge the two entries into one");
                continue;
            }

            var include = CompileGlobs(assignment.Include, $"{itemPath}.include");
            var exclude = CompileGlobs(assignment.Exclude, $"{itemPath}.exclude");
            var model = new AssignmentModel(server, include, exclude);
            result.Add(model with
            {
                Renames = CompileRenames(model, assignment.Rename, $"{itemPath}.rename"),
                Descriptions = CompileDescriptions(model, assignment.Describe, $"{itemPath}.describe"),
                FixedArguments = CompileFixedArguments(model, assignment.FixedArguments, $"{itemPath}.fixed_arguments"),
            });
            WarnOfRenamedKeys(assignment.Rename, assignment.Describe?.Keys, $"{itemPath}.describe");
            WarnOfRenamedKeys(assignment.Rename, assignment.FixedArguments?.Keys, $"{itemPath}.fixed_arguments");
        }

        return result.ToImmutable();
    }

    private ImmutableArray<Glob> CompileGlobs(List<string>? patterns, string path)
    {
        var result = ImmutableArray.CreateBuilder<Glob>();
        for (var i = 0; i < (patterns?.Count ?? 0); i++)
        {
            var pattern = patterns![i] ?? string.Empty;
            if (Glob.TryParse(pattern, out var glob, out var error))
            {
                result.Add(glob!);
            }
            else
            {
                _diagnostics.Add($"{path}[{i}]", $"bad glob '{pattern}': {error}", "globs use * (any run), ? (one character) and [abc] / [a-z] / [!x] (one character of a set)");
            }
        }

        return result.ToImmutable();
    }

    private void CheckPrefixable(ImmutableArray<AssignmentModel> assignments, string path, string separator)
    {
        for (var i = 0; i < assignments.Length; i++)
        {
            if (assignments[i].Server.Contains(separator, StringComparison.Ordinal))
            {
                _diagnostics.Add($"{path}[{i}].server", $"server name '{assignments[i].Server}' contains the separator '{separator}', so prefixed names would be ambiguous",
                    "rename the server, or choose another separator for this profile");
            }
        }
    }

    private void CheckBareCollisions(ImmutableArray<AssignmentModel> assignments, string path, string what)
    {
        // Only names the config spells out (literal includes, rename targets) are known here; other collisions
        // are resolved at run time (first server in config order wins, logged and counted).
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < assignments.Length; i++)
        {
            foreach (var (name, where) in KnownExposedNames(assignments[i]))
            {
                if (owners.TryGetValue(name, out var owner) && owner != assignments[i].Server)
                {
                    _diagnostics.Add($"{path}[{i}]{where}", $"{what} '{name}' is exposed by both '{owner}' and '{assignments[i].Server}' under bare naming",
                        "use naming: prefixed, rename one of them, or include it from one server only");
                }
                else
                {
                    owners[name] = assignments[i].Server;
                }
            }
        }
    }

    /// <summary>The exposed names an assignment certainly produces: its literal includes (renamed) and its rename targets.</summary>
    private static IEnumerable<(string Name, string Where)> KnownExposedNames(AssignmentModel assignment)
    {
        foreach (var glob in assignment.Include)
        {
            if (glob.IsLiteral && assignment.Admits(glob.Pattern) && !assignment.Renames.ContainsKey(glob.Pattern))
            {
                yield return (glob.Pattern, ".include");
            }
        }

        foreach (var (from, target) in assignment.Renames)
        {
            yield return (target, $".rename.{from}");
        }
    }

    private static bool IsValidSeparator(string separator)
    {
        if (separator.Length is 0 or > 8)
        {
            return false;
        }

        foreach (var c in separator)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
