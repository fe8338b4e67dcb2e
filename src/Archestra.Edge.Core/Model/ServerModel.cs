using System.Collections.Immutable;
using Archestra.Edge.Upstreams.Supervision;

namespace Archestra.Edge.Model;

internal enum ServerKind
{
    Remote,
    Process,
    Builtin,
    Container,
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
    /// <summary>Time the server may take to start and answer <c>initialize</c>; independent of <see cref="CallTimeout"/>.</summary>
    public TimeSpan StartTimeout { get; init; } = DefaultStartTimeout;

    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How many copies run (processes only); calls are spread over the ready ones.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>One upstream session for everyone (per replica), or one per downstream session.</summary>
    public ServerSharing Sharing { get; init; } = ServerSharing.Shared;

    /// <summary>How often lists are re-read when the server does not announce changes; null: never.</summary>
    public TimeSpan? ListRefresh { get; init; } = DefaultListRefresh;

    public static readonly TimeSpan DefaultListRefresh = TimeSpan.FromMinutes(5);

    /// <summary>How its tool and prompt definitions are checked against the lock file.</summary>
    public PinningMode Pinning { get; init; } = PinningMode.Off;

    /// <summary>A container server (<see cref="Kind"/> is <see cref="ServerKind.Container"/>).</summary>
    public ContainerServerModel? Container { get; init; }

    /// <summary>Start, stop, restart and health rules (processes and containers).</summary>
    public SupervisionPolicy Supervision { get; init; } = SupervisionPolicy.Default;

    /// <summary>The credentials its headers or environment refer to (<c>${credential:name}</c>); filled per caller.</summary>
    public ImmutableArray<string> CredentialNames { get; init; } = [];

    public bool UsesCredentials => !CredentialNames.IsEmpty;

    /// <summary>Sessions depend on the caller: its credentials, or its (or its team's) OAuth connection.</summary>
    public bool PerCaller => UsesCredentials || Remote?.OAuth?.PerCaller == true;

    /// <summary>Whether the gateway runs this server itself (a process or a container), so it supervises it.</summary>
    public bool IsSelfHosted => Kind is ServerKind.Process or ServerKind.Container;
}

internal enum ContainerRuntimeKind
{
    Podman,
    Docker,
}

internal enum ContainerTransport
{
    Stdio,
    Http,
}

/// <summary>A container server, validated.</summary>
internal sealed record ContainerServerModel(
    ContainerRuntimeKind Runtime,
    string Image,
    ImmutableArray<string> Args,
    ImmutableArray<KeyValuePair<string, string>> Environment,
    ContainerTransport Transport,
    int Port,
    string Path,
    string Network,
    string? Memory,
    string? Cpus,
    ImmutableArray<string> Mounts)
{
    public string RuntimeCommand => Runtime == ContainerRuntimeKind.Docker ? "docker" : "podman";
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

    /// <summary>The server is called with an OAuth connection's access token (null: headers only).</summary>
    public RemoteOAuthModel? OAuth { get; init; }
}

/// <summary>A remote server's OAuth client settings: a pre-registered client, and the scopes to ask for (null: discovered).</summary>
internal sealed record RemoteOAuthModel(string? ClientId, string? ClientSecret, string? Scope)
{
    /// <summary>A machine connection: the gateway asks for tokens itself (<c>client_credentials</c>).</summary>
    public bool ClientCredentials { get; init; }

    /// <summary>Whose connections callers use, in the order tried (<c>user</c>, <c>team</c>, <c>org</c>).</summary>
    public ImmutableArray<string> Owners { get; init; } = [ConnectionOwner.User, ConnectionOwner.Team, ConnectionOwner.Org];

    /// <summary>
    /// The connection a session of this server uses (<c>org</c>, <c>team:…</c>, <c>user:…</c>): chosen per caller at
    /// run time, each its own upstream session; <c>org</c> in the configuration's model.
    /// </summary>
    public string Owner { get; init; } = ConnectionOwner.Org;

    /// <summary>Callers may bring connections of their own (or their team's): sessions are chosen per caller.</summary>
    public bool PerCaller => !ClientCredentials && (Owners.Contains(ConnectionOwner.User) || Owners.Contains(ConnectionOwner.Team));
}

/// <summary>The owners of connections: kinds in the configuration, and the keys of stored rows.</summary>
internal static class ConnectionOwner
{
    public const string User = "user";
    public const string Team = "team";
    public const string Org = "org";

    public static string OfUser(string id) => $"user:{id}";

    public static string OfTeam(string id) => $"team:{id}";
}

internal sealed record ProcessServerModel(
    string Command,
    ImmutableArray<string> Args,
    ImmutableArray<KeyValuePair<string, string>> Environment,
    bool InheritEnvironment,
    string WorkingDirectory);
