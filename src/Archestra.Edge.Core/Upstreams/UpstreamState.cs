namespace Archestra.Edge.Upstreams;

/// <summary>Where an upstream server is in its life.</summary>
internal enum UpstreamState
{
    /// <summary>Not started yet (servers start on first use).</summary>
    Stopped,
    Starting,
    Ready,

    /// <summary>The last attempt to start or reach it failed, or it exited; it is retried after a back-off.</summary>
    Failed,

    /// <summary>It failed too many times in a row; it is left alone for <c>restart.crash_loop_pause</c>.</summary>
    CrashLoop,
}

/// <summary>A point-in-time view of one replica of an upstream server.</summary>
internal sealed record ReplicaStatus(
    int Index,
    UpstreamState State,
    string? Identity,
    DateTimeOffset? ReadySince,
    int Starts,
    string? LastError,
    string? ServerInfo)
{
    /// <summary>Times the gateway started it again after it exited or failed.</summary>
    public int Restarts { get; init; }

    /// <summary>How its last session ended (exit code and stderr, or why it was stopped), and when.</summary>
    public string? LastExit { get; init; }

    public DateTimeOffset? LastExitAt { get; init; }

    /// <summary>When the next start attempt is due (failed or crash-looping replicas).</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>Failures in a row (reset by a run longer than a minute).</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>The revision its live session speaks (2026-07-28 when it answered <c>server/discover</c>).</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>The last lines its process wrote to stderr.</summary>
    public IReadOnlyList<string> StderrTail { get; init; } = [];
}

/// <summary>A point-in-time view of one upstream server (its replicas summed up), for status output and the builtin tools.</summary>
internal sealed record ServerStatus(
    string Name,
    string Kind,
    UpstreamState State,
    string? Identity,
    DateTimeOffset? ReadySince,
    int Starts,
    string? LastError,
    string? ServerInfo,
    IReadOnlyList<ReplicaStatus> Replicas)
{
    /// <summary>Ready if any replica is; identities joined; starts summed; the first error found.</summary>
    public static ServerStatus Of(string name, string kind, IReadOnlyList<ReplicaStatus> replicas)
    {
        var state = UpstreamState.Stopped;
        var identities = new List<string>();
        DateTimeOffset? since = null;
        var starts = 0;
        string? error = null, info = null;
        foreach (var replica in replicas)
        {
            state = replica.State switch
            {
                UpstreamState.Ready => UpstreamState.Ready,
                UpstreamState.Starting when state != UpstreamState.Ready => UpstreamState.Starting,
                UpstreamState.Failed or UpstreamState.CrashLoop when state == UpstreamState.Stopped => replica.State,
                _ => state,
            };
            if (replica.Identity is { } identity)
            {
                identities.Add(identity);
            }

            since ??= replica.ReadySince;
            starts += replica.Starts;
            error ??= replica.LastError;
            info ??= replica.ServerInfo;
        }

        return new ServerStatus(name, kind, state, identities.Count == 0 ? null : string.Join(", ", identities), since, starts, error, info, replicas);
    }
}

/// <summary>What the embedded <c>archestra</c> server may ask the gateway about itself.</summary>
internal interface IGatewayIntrospection
{
    DateTimeOffset StartedAt { get; }

    /// <summary>The status of every server the profile uses, in config order.</summary>
    IReadOnlyList<ServerStatus> ServersOf(string profile);

    /// <summary>The status of every configured server, in config order.</summary>
    IReadOnlyList<ServerStatus> AllServers();
}
