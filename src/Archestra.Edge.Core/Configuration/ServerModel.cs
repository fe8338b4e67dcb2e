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
}

internal sealed record RemoteServerModel(Uri Url, ImmutableArray<KeyValuePair<string, string>> Headers);

internal sealed record ProcessServerModel(
    string Command,
    ImmutableArray<string> Args,
    ImmutableArray<KeyValuePair<string, string>> Environment,
    bool InheritEnvironment,
    string WorkingDirectory);
