namespace Archestra.Edge.Upstreams;

/// <summary>Where an upstream server is in its life.</summary>
internal enum UpstreamState
{
    /// <summary>Not started yet (servers start on first use).</summary>
    Stopped,
    Starting,
    Ready,

    /// <summary>The last attempt to start or reach it failed; the next use retries after a back-off.</summary>
    Failed,
}

/// <summary>A point-in-time view of one upstream server, for status output and the builtin tools.</summary>
internal sealed record ServerStatus(
    string Name,
    string Kind,
    UpstreamState State,
    string? Identity,
    DateTimeOffset? ReadySince,
    int Starts,
    string? LastError,
    string? ServerInfo);

/// <summary>What the embedded <c>archestra</c> server may ask the gateway about itself.</summary>
internal interface IGatewayIntrospection
{
    DateTimeOffset StartedAt { get; }

    /// <summary>The status of every server the profile uses, in config order.</summary>
    IReadOnlyList<ServerStatus> ServersOf(string profile);
}
