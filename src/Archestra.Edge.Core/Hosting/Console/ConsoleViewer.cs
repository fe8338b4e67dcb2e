using Archestra.Edge.Gateway;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Who is looking at the console, and what they may see: with <c>auth:</c>, an organisation token sees everything
/// (the configuration and the registry included), a user or team token the profiles open to it, the servers those
/// use, and its own calls; without <c>auth:</c>, local clients see everything.
/// </summary>
internal sealed record ConsoleViewer(Principal? Principal)
{
    /// <summary>Local, without <c>auth:</c>, or an organisation token.</summary>
    public bool SeesEverything => Principal is null || Principal.Kind == PrincipalKind.Org;

    public string Name => Principal?.Name ?? "local (this gateway authenticates nobody)";

    public bool MaySee(ProfileModel profile) => SeesEverything || Principal!.MayUse(profile);

    public IEnumerable<ProfileRuntime> Profiles(GatewayRuntime runtime)
        => runtime.Snapshot.ProfileList.Where(MaySee).Select(p => runtime.Profiles[p.Name]);

    /// <summary>The servers of the profiles this viewer may see (all of them for who sees everything).</summary>
    public HashSet<string> Servers(GatewayRuntime runtime)
    {
        if (SeesEverything)
        {
            return [.. runtime.Snapshot.Servers.Select(static s => s.Name)];
        }

        var servers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var profile in runtime.Snapshot.ProfileList.Where(MaySee))
        {
            foreach (var assignment in profile.Tools.Concat(profile.Prompts).Concat(profile.Resources))
            {
                servers.Add(assignment.Server);
            }
        }

        return servers;
    }
}
