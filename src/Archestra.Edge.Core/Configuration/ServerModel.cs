using System.Collections.Immutable;

namespace Archestra.Edge.Configuration;

internal enum ServerKind
{
    Remote,
    Process,
    Builtin,
}

/// <summary>One upstream server, validated.</summary>
internal sealed record ServerModel(
    string Name,
    ServerKind Kind,
    TimeSpan CallTimeout,
    RemoteServerModel? Remote,
    ProcessServerModel? Process,
    string? Builtin)
{
    /// <summary>How many copies run (processes only); calls are spread over the ready ones.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>One upstream session for everyone (per replica), or one per downstream session.</summary>
    public ServerSharing Sharing { get; init; } = ServerSharing.Shared;

    /// <summary>How often lists are re-read when the server does not announce changes; null: never.</summary>
    public TimeSpan? ListRefresh { get; init; } = DefaultListRefresh;

    public static readonly TimeSpan DefaultListRefresh = TimeSpan.FromMinutes(5);
}

internal enum ServerSharing
{
    /// <summary>All downstream sessions share the server's session (per replica); the gateway remaps ids.</summary>
    Shared,

    /// <summary>Each downstream session gets its own upstream session, closed when it ends.</summary>
    PerSession,
}

internal enum RemoteTransport
{
    /// <summary>Streamable HTTP (2025-03-26 and later).</summary>
    StreamableHttp,

    /// <summary>The legacy HTTP+SSE transport of 2024-11-05: a GET event stream and POSTs to the endpoint it names.</summary>
    Sse,
}

internal sealed record RemoteServerModel(Uri Url, ImmutableArray<KeyValuePair<string, string>> Headers)
{
    public RemoteTransport Transport { get; init; } = RemoteTransport.StreamableHttp;
}

internal sealed record ProcessServerModel(
    string Command,
    ImmutableArray<string> Args,
    ImmutableArray<KeyValuePair<string, string>> Environment,
    bool InheritEnvironment,
    string WorkingDirectory);
