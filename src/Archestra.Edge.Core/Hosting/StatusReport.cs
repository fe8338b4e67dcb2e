using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Hosting;

/// <summary>The gateway's status (<c>GET /admin/status</c>, read by <c>archestra-edge status</c>), taken from a runtime.</summary>
internal static class StatusReport
{
    public static GatewayStatus Of(GatewayRuntime runtime)
    {
        var now = runtime.TimeProvider.GetUtcNow();
        var gateway = new GatewayInfo(
            Utilities.BuildInfo.Version,
            runtime.Snapshot.SourcePath,
            runtime.Snapshot.ConfigFingerprint,
            runtime.Containers.InstanceId,
            runtime.StartedAt,
            (long)(now - runtime.StartedAt).TotalSeconds,
            runtime.Sessions.Count);
        var servers = runtime.AllServers()
            .Select(server => new ServerStatusView(server.Name, server.Kind, StateName(server.State), [.. server.Replicas.Select(replica => Replica(replica, now))]))
            .ToArray();
        FleetView? fleet = null;
        if (runtime.Fleet is { Membership: { } membership, Forwarder: { } forwarder } node)
        {
            fleet = new FleetView(node.Instance, forwarder.Forwarded, forwarder.OwnerGone, [.. membership.Members.Values
                .OrderBy(m => m.StartedAt).ThenBy(m => m.Instance, StringComparer.Ordinal)
                .Select(m => new FleetMemberView(m.Instance, m.Url.ToString(), m.Version, m.Fingerprint, m.StartedAt, m.SeenAt))]);
        }

        return new GatewayStatus(gateway, servers, fleet);
    }

    public static string StateName(UpstreamState state) => state switch
    {
        UpstreamState.Stopped => "stopped",
        UpstreamState.Starting => "starting",
        UpstreamState.Ready => "ready",
        UpstreamState.Failed => "failed",
        _ => "crash_loop",
    };

    private static ReplicaStatusView Replica(ReplicaStatus replica, DateTimeOffset now) => new(
        replica.Index + 1,
        StateName(replica.State),
        replica.Identity,
        replica.ServerInfo,
        replica.ProtocolVersion,
        replica.ReadySince,
        replica.ReadySince is { } since ? (long)(now - since).TotalSeconds : null,
        replica.Starts,
        replica.Restarts,
        replica.ConsecutiveFailures,
        replica.LastError,
        replica.LastExit,
        replica.LastExitAt,
        replica.NextAttemptAt,
        replica.StderrTail);
}
