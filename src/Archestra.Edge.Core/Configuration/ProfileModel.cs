using System.Collections.Immutable;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration;

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
}

/// <summary>A server's items (tools, prompts or resources) exposed by a profile, filtered by globs.</summary>
internal sealed record AssignmentModel(string Server, ImmutableArray<Glob> Include, ImmutableArray<Glob> Exclude)
{
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
