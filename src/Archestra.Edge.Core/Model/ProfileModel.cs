using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Model;

internal enum ToolNaming
{
    /// <summary><c>&lt;server&gt;&lt;separator&gt;&lt;tool&gt;</c>.</summary>
    Prefixed,

    /// <summary>The upstream name as is; collisions are resolved first-server-wins.</summary>
    Bare,
}

/// <summary>One profile, validated: served at <c>/v1/mcp/&lt;Name&gt;</c>.</summary>
internal sealed record ProfileModel(
    string Name,
    string? Title,
    string? Description,
    string? Instructions,
    ToolNaming Naming,
    string Separator,
    ImmutableArray<AssignmentModel> Tools,
    ImmutableArray<AssignmentModel> Prompts,
    ImmutableArray<AssignmentModel> Resources)
{
    public const string DefaultSeparator = "__";

    /// <summary>Who may use the profile.</summary>
    public AccessModel Access { get; init; } = AccessModel.Everyone;

    /// <summary>Rules on tool calls, in the order they are tried: the profile's own, then the organisation's.</summary>
    public ImmutableArray<PolicyRule> Policies { get; init; } = [];

    /// <summary>Scanning of results for secrets and personal data (null: none).</summary>
    public RedactionSettings? Redaction { get; init; }
}

/// <summary>
/// A server's items (tools, prompts or resources) exposed by a profile: filtered by globs, and curated by upstream
/// name (renamed, described, with arguments fixed by the gateway).
/// </summary>
internal sealed record AssignmentModel(string Server, ImmutableArray<Glob> Include, ImmutableArray<Glob> Exclude)
{
    /// <summary>Upstream name → the name exposed instead (before the server prefix, if any).</summary>
    public FrozenDictionary<string, string> Renames { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Upstream name → the description exposed instead.</summary>
    public FrozenDictionary<string, string> Descriptions { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Upstream tool name → arguments the gateway sets on every call.</summary>
    public FrozenDictionary<string, FixedArguments> FixedArguments { get; init; } = FrozenDictionary<string, FixedArguments>.Empty;

    /// <summary>Who may call these tools (null: whoever may use the profile).</summary>
    public ToolAccess? Access { get; init; }

    /// <summary>Whether this assignment changes anything about an item beyond its name prefix.</summary>
    public bool Curates(string name)
        => Renames.ContainsKey(name) || Descriptions.ContainsKey(name) || FixedArguments.ContainsKey(name);

    /// <summary>Whether an upstream item name passes the include and exclude patterns.</summary>
    public bool Admits(string name)
    {
        if (!Include.IsDefaultOrEmpty)
        {
            var included = false;
            foreach (var glob in Include)
            {
                if (glob.IsMatch(name))
                {
                    included = true;
                    break;
                }
            }

            if (!included)
            {
                return false;
            }
        }

        foreach (var glob in Exclude)
        {
            if (glob.IsMatch(name))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Arguments fixed by the config for one tool: their names, and their JSON object members
/// (<c>"owner":"acme","dry_run":true</c>) ready to be spliced into a call.
/// </summary>
internal sealed record FixedArguments(ImmutableArray<string> Names, byte[] Members)
{
    public bool Contains(ReadOnlySpan<char> name)
    {
        foreach (var fixedName in Names)
        {
            if (name.SequenceEqual(fixedName))
            {
                return true;
            }
        }

        return false;
    }
}
