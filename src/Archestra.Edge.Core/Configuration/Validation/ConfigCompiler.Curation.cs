using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    /// <summary>The longest tool or prompt name the gateway exposes (the MCP naming guidance).</summary>
    internal const int MaxItemNameLength = 128;

    private FrozenDictionary<string, string> CompileRenames(AssignmentModel assignment, Dictionary<string, string>? renames, string path)
    {
        if (renames is null || renames.Count == 0)
        {
            return FrozenDictionary<string, string>.Empty;
        }

        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (from, to) in renames)
        {
            CheckCurated(assignment, from, path, "rename");
            if (string.IsNullOrEmpty(to) || !IsValidItemName(to))
            {
                _diagnostics.Add($"{path}.{from}", $"'{to}' is not a valid name",
                    $"use 1-{MaxItemNameLength} letters, digits, '_', '-' or '.'");
                continue;
            }

            if (targets.TryGetValue(to, out var other))
            {
                _diagnostics.Add($"{path}.{from}", $"'{from}' and '{other}' are both renamed to '{to}'", "give them different names");
                continue;
            }

            targets[to] = from;
        }

        // A rename onto a name the server still exposes under its own name would hide one of the two.
        foreach (var glob in assignment.Include)
        {
            if (glob.IsLiteral && targets.TryGetValue(glob.Pattern, out var renamed) && !renames.ContainsKey(glob.Pattern) && renamed != glob.Pattern)
            {
                _diagnostics.Add($"{path}.{renamed}", $"'{renamed}' is renamed to '{glob.Pattern}', which this server also exposes under that name",
                    "rename the other one too, or exclude it");
            }
        }

        return renames.Where(pair => !string.IsNullOrEmpty(pair.Value)).ToFrozenDictionary(StringComparer.Ordinal);
    }

    private FrozenDictionary<string, string> CompileDescriptions(AssignmentModel assignment, Dictionary<string, string>? descriptions, string path)
    {
        if (descriptions is null || descriptions.Count == 0)
        {
            return FrozenDictionary<string, string>.Empty;
        }

        foreach (var (name, description) in descriptions)
        {
            CheckCurated(assignment, name, path, "describe");
            if (string.IsNullOrWhiteSpace(description))
            {
                _diagnostics.Add($"{path}.{name}", "the description is empty", "remove the entry to keep the server's own description");
            }
        }

        return descriptions.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private FrozenDictionary<string, FixedArguments> CompileFixedArguments(AssignmentModel assignment, Dictionary<string, Dictionary<string, string>>? tools, string path)
    {
        if (tools is null || tools.Count == 0)
        {
            return FrozenDictionary<string, FixedArguments>.Empty;
        }

        var result = new Dictionary<string, FixedArguments>(StringComparer.Ordinal);
        foreach (var (tool, arguments) in tools)
        {
            CheckCurated(assignment, tool, path, "fixed_arguments");
            if (arguments is null || arguments.Count == 0)
            {
                _diagnostics.Add($"{path}.{tool}", "expected a mapping of argument names to values", "for example fixed_arguments: { create_issue: { owner: acme } }");
                continue;
            }

            var names = ImmutableArray.CreateBuilder<string>(arguments.Count);
            var members = new ArrayBufferWriter<byte>();
            foreach (var (name, json) in arguments)
            {
                if (name.Length == 0)
                {
                    _diagnostics.Add($"{path}.{tool}", "an argument name is empty");
                    continue;
                }

                if (members.WrittenCount > 0)
                {
                    members.Write(","u8);
                }

                JsonRpcWriter.WriteString(members, name);
                members.Write(":"u8);
                members.Write(Canonical(json));
                names.Add(name);
            }

            result[tool] = new FixedArguments(names.ToImmutable(), members.WrittenSpan.ToArray());
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>A curation entry must name something the assignment exposes, or it would silently do nothing.</summary>
    /// <summary>
    /// Curation is keyed by the server's own names: a key that is the name another item is renamed to matches nothing
    /// (the server has no item by that name) and would silently do nothing. It loads, with a warning naming the
    /// upstream name it most likely means.
    /// </summary>
    private void WarnOfRenamedKeys(Dictionary<string, string>? renames, IEnumerable<string>? keys, string path)
    {
        if (renames is null || renames.Count == 0 || keys is null)
        {
            return;
        }

        foreach (var key in keys)
        {
            var meant = renames.Where(r => r.Value == key && r.Key != key).Select(static r => r.Key).ToList();
            if (meant.Count > 0 && !renames.ContainsKey(key))
            {
                _diagnostics.Warn($"{path}.{key}", $"'{key}' is the name {string.Join(" and ", meant.Select(static m => $"'{m}'"))} is renamed to, and keys here are the server's own names: this entry matches nothing",
                    $"key it by {string.Join(" or ", meant.Select(static m => $"'{m}'"))}");
            }
        }
    }

    private void CheckCurated(AssignmentModel assignment, string name, string path, string what)
    {
        if (!assignment.Admits(name))
        {
            _diagnostics.Add($"{path}.{name}", $"{what} names '{name}', which this assignment's include/exclude filters out",
                "fix the name, or adjust include/exclude; a curation that matches nothing would silently do nothing");
        }
    }

    private void CheckUriPrefixable(ImmutableArray<AssignmentModel> assignments, string path)
    {
        for (var i = 0; i < assignments.Length; i++)
        {
            if (!IsUriSchemePrefix(assignments[i].Server))
            {
                _diagnostics.Add($"{path}[{i}].server", $"server name '{assignments[i].Server}' cannot prefix resource URIs",
                    "with naming: prefixed, resource URIs become <server>+<uri>, so the server name must start with a letter and hold only letters, digits, '-' and '.'; rename the server or use naming: bare");
            }
        }
    }

    /// <summary>Whether <c>name+</c> can go in front of a URI scheme and leave a valid scheme (RFC 3986 §3.1).</summary>
    internal static bool IsUriSchemePrefix(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The tool and prompt name alphabet: <c>[A-Za-z0-9_.-]</c>, 1-128 characters.</summary>
    internal static bool IsValidItemName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxItemNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Canonical(string json)
    {
        // The checker wrote this JSON; re-read it to be sure it is one value.
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes);
        reader.Read();
        reader.Skip();
        return bytes;
    }
}
