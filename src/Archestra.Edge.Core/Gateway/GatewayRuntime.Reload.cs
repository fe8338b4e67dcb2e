using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Supervision;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway;

/// <summary>
/// Reloads: a successor runtime is built from the new snapshot and this one (<see cref="CarriedOver"/>), swapped in,
/// then <see cref="Activate"/>d; this one is then retired (<see cref="RetireAsync"/>): sessions move to the successor
/// unless their profile is gone, and servers the successor did not carry over are stopped.
/// </summary>
internal sealed partial class GatewayRuntime
{
    /// <summary>This runtime's server for <paramref name="model"/>, if the new snapshot describes it exactly as before.</summary>
    private UpstreamServer? CarriedOver(ServerModel model, GatewaySnapshot next)
    {
        if (!Servers.TryGetValue(model.Name, out var server) || server.Model.CallTimeout != model.CallTimeout
            || !Snapshot.SameAs(next, $"servers/{model.Name}"))
        {
            return null;
        }

        // Which credential a caller gets depends on the credentials and on who is in which team.
        if (model.UsesCredentials && !(Snapshot.SameAs(next, "credentials") && Snapshot.SameAs(next, "users") && Snapshot.SameAs(next, "teams")))
        {
            return null;
        }

        return server;
    }

    /// <summary>Makes this (already swapped-in) runtime the one upstream events go to, and starts its new eager servers.</summary>
    public void Activate(GatewayRuntime predecessor)
    {
        _events.Target = this;
        foreach (var cache in _listCaches.Values)
        {
            cache.Changed = OnListRefreshed;
        }

        foreach (var server in Servers.Values)
        {
            if (!predecessor.Servers.TryGetValue(server.Name, out var before) || !ReferenceEquals(before, server))
            {
                if (server.Model.IsSelfHosted && server.Model.Supervision.Start == StartMode.Eager)
                {
                    server.WarmUpAll();
                }
            }
        }
    }

    /// <summary>
    /// Hands this runtime's sessions to <paramref name="successor"/> (ending those whose profile is gone, and telling
    /// those whose profile changed that its lists changed), then stops the servers it did not carry over.
    /// </summary>
    /// <summary>
    /// Whether a profile's list of this kind may read differently after the reload: its own assignments changed, or
    /// anything else of the profile (naming, separator, access, policies …); a changed tool description is news for
    /// <c>tools/list</c> only.
    /// </summary>
    private bool ListChanged(GatewayRuntime successor, string profile, CatalogKind kind)
        => !Snapshot.SameAs(successor.Snapshot, $"profiles/{profile}/rest")
            || !Snapshot.SameAs(successor.Snapshot, $"profiles/{profile}/{CatalogKinds.ResultProperty(kind)}");

    public async Task<ReloadSummary> RetireAsync(GatewayRuntime successor)
    {
        var removed = new List<UpstreamServer>();
        foreach (var server in Servers.Values)
        {
            if (!successor.Servers.TryGetValue(server.Name, out var kept) || !ReferenceEquals(kept, server))
            {
                removed.Add(server);
            }
        }

        var ended = 0;
        var moved = 0;
        var pinsChanged = Snapshot.Pins?.Fingerprint != successor.Snapshot.Pins?.Fingerprint;
        foreach (var session in Sessions.All)
        {
            if (!successor.Profiles.TryGetValue(session.ProfileName, out var profile))
            {
                successor.EndSession(session);
                ended++;
                continue;
            }

            var usesRemoved = UsesAny(session.Profile, removed);
            session.Rebind(profile);
            foreach (var server in removed)
            {
                session.ReleaseOwnUpstream(server);
            }

            foreach (var kind in (ReadOnlySpan<CatalogKind>)[CatalogKind.Tools, CatalogKind.Prompts, CatalogKind.Resources])
            {
                if (usesRemoved || ListChanged(successor, profile.Name, kind) || (pinsChanged && kind != CatalogKind.Resources))
                {
                    session.Post(JsonRpcWriter.Notification(McpMethods.NameOf(CatalogKinds.ListChangedNotification(kind))));
                }
            }

            moved++;
        }

        foreach (var server in removed)
        {
            Subscriptions.RemoveServer(server);
        }

        var stops = new List<Task>();
        foreach (var server in removed)
        {
            stops.Add(server.DisposeAsync().AsTask());
            foreach (var kind in CatalogKinds.All)
            {
                _listCaches[(server, kind)].Dispose();
            }
        }

        await Task.WhenAll(stops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var summary = new ReloadSummary(successor.Servers.Count - (Servers.Count - removed.Count), removed.Count, Servers.Count - removed.Count, moved, ended);
        ReloadLog.Retired(_logger, summary.Started, summary.Stopped, summary.Kept, summary.SessionsKept, summary.SessionsEnded);
        return summary;
    }

    private static bool UsesAny(ProfileRuntime profile, List<UpstreamServer> servers)
    {
        foreach (var server in profile.Servers)
        {
            if (servers.Contains(server))
            {
                return true;
            }
        }

        return false;
    }

    private static partial class ReloadLog
    {
        [LoggerMessage(Observability.EventIds.ConfigReloaded, LogLevel.Information,
            "Config reloaded: {Started} server(s) new or changed, {Stopped} stopped, {Kept} untouched; {SessionsKept} session(s) kept, {SessionsEnded} ended (profile removed)")]
        public static partial void Retired(ILogger logger, int started, int stopped, int kept, int sessionsKept, int sessionsEnded);
    }
}

/// <summary>What a reload did.</summary>
internal sealed record ReloadSummary(int Started, int Stopped, int Kept, int SessionsKept, int SessionsEnded);
