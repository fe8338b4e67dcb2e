using System.Collections.Immutable;
using System.Text;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// Which value of each <c>${credential:name}</c> a caller gets: the user's own, else the first of their teams that
/// has one, else the organisation default. A team token gets its team's, else the default; an organisation token
/// (or an unauthenticated gateway) the default. The selection is named by where each value came from
/// (<c>github=user:alice</c>), so callers with the same selection share an upstream session and nobody else does.
/// </summary>
internal static class Credentials
{
    public readonly record struct Selection(string Key, ImmutableDictionary<string, string> Values)
    {
        public string Fill(string template)
        {
            var values = Values;
            return CredentialTemplate.Fill(template, name => values[name]);
        }
    }

    public static (Selection Selection, UpstreamError Error) Select(ServerModel server, Principal caller, IdentityModel identity)
    {
        var key = new StringBuilder();
        var values = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var name in server.CredentialNames)
        {
            if (!identity.Credentials.TryGetValue(name, out var credential) || Pick(credential, caller) is not var (value, source))
            {
                return (default, new UpstreamError(UpstreamErrorKind.CredentialMissing,
                    $"server '{server.Name}' needs the credential '{name}', and there is none for {caller.Name} (no user value, no team value, no default in credentials.{name})"));
            }

            values[name] = value;
            key.Append(name).Append('=').Append(source).Append(';');
        }

        return Checked(server, new Selection(key.ToString(), values.ToImmutable()));
    }

    /// <summary>
    /// The selection used to list the server's tools (no caller): the default; without one, the first team value,
    /// then the first user value (in name order, so it is always the same one).
    /// </summary>
    public static (Selection Selection, UpstreamError Error) ForCatalog(ServerModel server, IdentityModel identity)
    {
        var key = new StringBuilder();
        var values = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var name in server.CredentialNames)
        {
            if (!identity.Credentials.TryGetValue(name, out var credential))
            {
                return (default, new UpstreamError(UpstreamErrorKind.CredentialMissing, $"credential '{name}' is not defined"));
            }

            (string Value, string Source)? pick = credential.Default is { } d ? (d, "org")
                : credential.Teams.Count > 0 ? credential.Teams.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Value, $"team:{t.Key}")).First()
                : credential.Users.Count > 0 ? credential.Users.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => (u.Value, $"user:{u.Key}")).First()
                : null;
            if (pick is not var (value, source))
            {
                return (default, new UpstreamError(UpstreamErrorKind.CredentialMissing, $"credential '{name}' has no value to list the tools of '{server.Name}' with"));
            }

            values[name] = value;
            key.Append(name).Append('=').Append(source).Append(';');
        }

        return Checked(server, new Selection(key.ToString(), values.ToImmutable()));
    }

    /// <summary>
    /// A value that goes into an HTTP header must be one line of visible text: a CR or LF would add a header of the
    /// caller's choosing (request splitting), so such a value is refused here, per call, whatever store it came from.
    /// The load refuses the same values up front; this is the check at the point of use.
    /// </summary>
    private static (Selection Selection, UpstreamError Error) Checked(ServerModel server, Selection selection)
    {
        if (server.Remote is { } remote)
        {
            foreach (var (header, template) in remote.Headers)
            {
                foreach (var name in CredentialTemplate.Names(template))
                {
                    if (selection.Values.TryGetValue(name, out var value) && !IsHeaderSafe(value))
                    {
                        return (default, new UpstreamError(UpstreamErrorKind.CredentialMissing,
                            $"the value of credential '{name}' cannot be sent in the header '{header}' of server '{server.Name}': it holds a line break or control character"));
                    }
                }
            }
        }

        return (selection, UpstreamError.None);
    }

    /// <summary>Visible characters, spaces and tabs only (RFC 9110 field-value).</summary>
    public static bool IsHeaderSafe(string value)
    {
        foreach (var c in value)
        {
            if ((c < 0x20 && c != '\t') || c == 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The server's model with every credential reference filled in.</summary>
    public static ServerModel Fill(ServerModel server, Selection selection)
    {
        if (!server.UsesCredentials)
        {
            return server;
        }

        ImmutableArray<KeyValuePair<string, string>> FillAll(ImmutableArray<KeyValuePair<string, string>> pairs)
            => [.. pairs.Select(p => new KeyValuePair<string, string>(p.Key, selection.Fill(p.Value)))];

        return server with
        {
            Remote = server.Remote is { } remote ? remote with { Headers = FillAll(remote.Headers) } : null,
            Process = server.Process is { } process ? process with { Environment = FillAll(process.Environment) } : null,
            Container = server.Container is { } container ? container with { Environment = FillAll(container.Environment) } : null,
        };
    }

    private static (string Value, string Source)? Pick(CredentialModel credential, Principal caller)
    {
        switch (caller.Kind)
        {
            case PrincipalKind.User:
                if (credential.Users.TryGetValue(caller.Id, out var own))
                {
                    return (own, $"user:{caller.Id}");
                }

                foreach (var team in caller.Teams)
                {
                    if (credential.Teams.TryGetValue(team, out var teams))
                    {
                        return (teams, $"team:{team}");
                    }
                }

                break;
            case PrincipalKind.Team:
                if (credential.Teams.TryGetValue(caller.Id, out var team2))
                {
                    return (team2, $"team:{caller.Id}");
                }

                break;
        }

        return credential.Default is { } fallback ? (fallback, "org") : null;
    }
}
