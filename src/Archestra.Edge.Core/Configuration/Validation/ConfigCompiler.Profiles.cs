using System.Collections.Immutable;
using Archestra.Edge.Configuration.Model;
using Archestra.Edge.Configuration.Yaml;
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

            var tools = CompileAssignments(config.Tools?.ConvertAll(t => t is null ? null : new AssignmentConfig { Server = t.Server, Include = t.Include, Exclude = t.Exclude }), $"{path}.tools", serverNames);
            var prompts = CompileAssignments(config.Prompts, $"{path}.prompts", serverNames);
            var resources = CompileAssignments(config.Resources, $"{path}.resources", serverNames);

            if (naming == ToolNaming.Prefixed)
            {
                CheckPrefixable(tools, $"{path}.tools", separator);
                CheckPrefixable(prompts, $"{path}.prompts", separator);
            }
            else
            {
                CheckBareCollisions(tools, $"{path}.tools", "tool");
                CheckBareCollisions(prompts, $"{path}.prompts", "prompt");
            }

            if (resources.Length > 1)
            {
                _diagnostics.Add($"{path}.resources", "resources from more than one server in a profile are not supported yet", "assign resources from a single server");
            }

            result.Add(new ProfileModel(name, config.Title, config.Description, config.Instructions, naming, separator, tools, prompts, resources));
        }

        return result.ToImmutable();
    }

    private ToolNaming Invalid(string path, string message, string hint)
    {
        _diagnostics.Add(path, message, hint);
        return ToolNaming.Prefixed;
    }

    private ImmutableArray<AssignmentModel> CompileAssignments(List<AssignmentConfig?>? assignments, string path, HashSet<string> serverNames)
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
            result.Add(new AssignmentModel(server, include, exclude));
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
        // Only literal includes are known from the config; other collisions are resolved at run time (first server wins).
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < assignments.Length; i++)
        {
            foreach (var glob in assignments[i].Include)
            {
                if (!glob.IsLiteral)
                {
                    continue;
                }

                if (owners.TryGetValue(glob.Pattern, out var owner) && owner != assignments[i].Server)
                {
                    _diagnostics.Add($"{path}[{i}].include", $"{what} '{glob.Pattern}' is exposed by both '{owner}' and '{assignments[i].Server}' under bare naming",
                        "use naming: prefixed, or include it from one server only");
                }
                else
                {
                    owners[glob.Pattern] = assignments[i].Server;
                }
            }
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
