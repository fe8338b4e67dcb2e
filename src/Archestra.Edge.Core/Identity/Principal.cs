using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Model;

namespace Archestra.Edge.Identity;

/// <summary>
/// Who a request acts for: a user (with their teams), a team, or the organisation; how they proved it; and what
/// the credential narrows (profiles, for tokens; the one profile an OAuth access token was issued for).
/// </summary>
internal sealed record Principal(PrincipalKind Kind, string Id, ImmutableArray<string> Teams, string Via)
{
    /// <summary>When the gateway authenticates nobody: every caller is the organisation.</summary>
    public static readonly Principal Anonymous = new(PrincipalKind.Org, string.Empty, [], "anonymous");

    /// <summary>Profiles the credential is limited to (empty: no limit besides the profiles' access).</summary>
    public ImmutableArray<string> Profiles { get; init; } = [];

    /// <summary>A stable name for logs, audit and session binding: <c>user:alice</c>, <c>team:platform</c>, <c>org</c>.</summary>
    public string Name { get; } = Kind switch
    {
        PrincipalKind.Org => Id.Length == 0 ? "org" : $"org:{Id}",
        PrincipalKind.Team => $"team:{Id}",
        _ => $"user:{Id}",
    };

    /// <summary>Whether the same party (not necessarily the same token) stands behind both.</summary>
    public bool SameParty(Principal other) => Kind == other.Kind && Id == other.Id;

    /// <summary>Whether this principal may use <paramref name="profile"/>: the profile's access, then the credential's narrowing.</summary>
    public bool MayUse(ProfileModel profile)
    {
        if (!Profiles.IsDefaultOrEmpty && !Profiles.Contains(profile.Name))
        {
            return false;
        }

        var access = profile.Access;
        if (access.Org)
        {
            return true;
        }

        // The organisation owns every profile; narrow an org token with profiles: when that is too much.
        return Kind == PrincipalKind.Org || IsAmong(access.Users, access.Teams);
    }

    /// <summary>
    /// Whether this principal is one of <paramref name="users"/> or belongs to one of <paramref name="teams"/>: a team
    /// token by its team, a user by their name or any of their teams; the organisation is neither.
    /// </summary>
    public bool IsAmong(FrozenSet<string> users, FrozenSet<string> teams)
    {
        switch (Kind)
        {
            case PrincipalKind.Team:
                return teams.Contains(Id);
            case PrincipalKind.User:
                if (users.Contains(Id))
                {
                    return true;
                }

                foreach (var team in Teams)
                {
                    if (teams.Contains(team))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
