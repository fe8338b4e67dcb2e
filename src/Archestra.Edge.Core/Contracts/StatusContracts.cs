namespace Archestra.Edge.Contracts;

/// <summary>
/// <c>GET /admin/status</c>, read by <c>archestra-edge status</c>: the gateway, and per server and replica its state,
/// pid or container, uptime, restarts, last exit, last error and stderr tail.
/// </summary>
internal sealed record GatewayStatus(GatewayInfo Gateway, IReadOnlyList<ServerStatusView> Servers, FleetView? Fleet = null);

/// <summary>This instance's place in its fleet (<c>storage: postgres</c>): its id, and every live instance as the heartbeats tell.</summary>
/// <param name="Forwarded">Requests this instance forwarded to the owners of their sessions.</param>
/// <param name="OwnerGone">Requests for sessions whose owner was gone (answered 404).</param>
internal sealed record FleetView(string Instance, long Forwarded, long OwnerGone, IReadOnlyList<FleetMemberView> Members);

/// <param name="Fingerprint">The config the instance runs: the fleet has converged when all are equal.</param>
internal sealed record FleetMemberView(string Instance, string Url, string Version, string Fingerprint, DateTimeOffset StartedAt, DateTimeOffset SeenAt);

internal sealed record GatewayInfo(string Version, string Config, string ConfigFingerprint, string Instance, DateTimeOffset StartedAt, long UptimeSeconds, int Sessions);

/// <param name="State">The best state among its replicas: <c>stopped</c>, <c>starting</c>, <c>ready</c>, <c>failed</c> or <c>crash_loop</c>.</param>
internal sealed record ServerStatusView(string Name, string Kind, string State, IReadOnlyList<ReplicaStatusView> Replicas);

/// <param name="Replica">The replica number, from 1.</param>
/// <param name="Id">A process id, a container id or an HTTP session id.</param>
internal sealed record ReplicaStatusView(
    int Replica,
    string State,
    string? Id,
    string? ServerInfo,
    string? ProtocolVersion,
    DateTimeOffset? ReadySince,
    long? UptimeSeconds,
    int Starts,
    int Restarts,
    int FailuresInARow,
    string? LastError,
    string? LastExit,
    DateTimeOffset? LastExitAt,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<string> StderrTail);

/// <summary>
/// <c>GET /readyz</c>: <c>ready</c> (200) or <c>stopping</c> (503), the config, open sessions, the last reload, and
/// each server's state.
/// </summary>
/// <param name="Instance">This instance's id in its fleet (null alone).</param>
/// <param name="FleetMembers">How many instances of the fleet are live (null alone).</param>
internal sealed record ReadinessReport(string Status, string Config, string ConfigFingerprint, int Sessions, ReloadOutcome? LastReload, IReadOnlyDictionary<string, string> Servers,
    string? Instance = null, int? FleetMembers = null);

/// <summary>When the config was last reloaded, and why it failed if it did (the running config stays then).</summary>
internal sealed record ReloadOutcome(DateTimeOffset At, bool Succeeded, string? Error);
