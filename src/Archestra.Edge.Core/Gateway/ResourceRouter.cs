using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway;

/// <summary>The server that owns a resource URI (or URI template), and the URI as that server knows it.</summary>
internal readonly record struct ResourceRoute(UpstreamServer Server, AssignmentModel Assignment, string UpstreamUri, bool Prefixed);

/// <summary>
/// Finds which server a resource URI or URI template belongs to. Under <c>naming: prefixed</c> the URI says it
/// (<c>server+uri</c>). Otherwise — bare naming, or a URI the client got elsewhere (a tool result's resource link) —
/// the server that lists it wins, then the server with the longest matching template, then the first resource
/// server of the profile. The assignment's include/exclude apply to reads too.
/// </summary>
internal static class ResourceRouter
{
    public static async ValueTask<(ResourceRoute Route, GatewayError Error)> ResolveAsync(ProfileRuntime profile, string exposed, bool isTemplate, CancellationToken cancellationToken)
    {
        if (profile.ResourceServers.IsEmpty)
        {
            return (default, new GatewayError(GatewayErrorKind.MethodNotFound, "This profile exposes no resources"));
        }

        ResourceRoute route;
        if (profile.Model.Naming == ToolNaming.Prefixed
            && ResourceUris.TrySplit(exposed, out var serverName, out var uri)
            && profile.ResourceServerNamed(serverName) is { } named)
        {
            route = new ResourceRoute(named.Server, named.Assignment, uri, Prefixed: true);
        }
        else
        {
            var (assignment, server) = await FindOwnerAsync(profile, exposed, isTemplate, cancellationToken).ConfigureAwait(false);
            route = new ResourceRoute(server, assignment, exposed, Prefixed: false);
        }

        if (!route.Assignment.Admits(route.UpstreamUri))
        {
            return (default, new GatewayError(GatewayErrorKind.ResourceNotFound, $"Resource not found: {exposed}"));
        }

        return (route, default);
    }

    private static async ValueTask<(AssignmentModel, UpstreamServer)> FindOwnerAsync(ProfileRuntime profile, string uri, bool isTemplate, CancellationToken cancellationToken)
    {
        var servers = profile.ResourceServers;
        if (servers.Length == 1)
        {
            return servers[0];
        }

        if (!isTemplate)
        {
            var resources = await profile.Resources.GetAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (_, entry) in resources.Entries)
            {
                if (entry.UpstreamName == uri)
                {
                    return (entry.Assignment, entry.Server);
                }
            }
        }

        var templates = await profile.ResourceTemplates.GetAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        CatalogEntry? best = null;
        var bestLength = -1;
        foreach (var (_, entry) in templates.Entries)
        {
            if (isTemplate)
            {
                if (entry.UpstreamName == uri)
                {
                    return (entry.Assignment, entry.Server);
                }

                continue;
            }

            var literal = ResourceUris.LiteralPrefix(entry.UpstreamName);
            if (literal.Length > bestLength && uri.StartsWith(literal, StringComparison.Ordinal))
            {
                best = entry;
                bestLength = literal.Length;
            }
        }

        return best is not null ? (best.Assignment, best.Server) : servers[0];
    }
}
