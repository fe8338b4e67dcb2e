namespace Archestra.Edge.Upstreams.Supervision;

/// <summary>What a <see cref="ReplicaSupervisor"/> watches and acts on: one replica's session holder.</summary>
internal interface ISupervisedReplica
{
    /// <summary>The replica's name in logs and status (<c>name</c>, <c>name#2</c>, ...).</summary>
    string Name { get; }

    /// <summary>The live session, if any.</summary>
    UpstreamSession? CurrentSession { get; }

    /// <summary>The timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last call that used the replica.</summary>
    long LastUsed { get; }

    /// <summary>A scheduled restart is due: start the session now.</summary>
    void RestartNow();

    /// <summary>Stops <paramref name="session"/> on purpose (idle stop); the next call starts it again.</summary>
    Task StopAsync(UpstreamSession session, string reason);

    /// <summary><paramref name="session"/> stopped answering pings: end it as if it had crashed.</summary>
    Task FailHealthAsync(UpstreamSession session, string reason);
}
