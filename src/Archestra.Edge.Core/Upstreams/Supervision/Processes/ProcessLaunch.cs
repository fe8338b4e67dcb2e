using System.Collections.Immutable;

namespace Archestra.Edge.Upstreams.Supervision.Processes;

/// <summary>
/// What to run for a stdio upstream: a configured process, or a container runtime's <c>run -i</c>. The
/// <see cref="StopHook"/>, if any, stops the real server before its client process is signalled (a container is
/// removed by name, since killing <c>podman run</c> would leave it running).
/// </summary>
internal sealed record ProcessLaunch(
    string Command,
    ImmutableArray<string> Args,
    ImmutableArray<KeyValuePair<string, string>> Environment,
    bool InheritEnvironment,
    string WorkingDirectory)
{
    /// <summary>Runs after stdin was closed and the grace period passed, before SIGTERM.</summary>
    public Func<Task>? StopHook { get; init; }

    /// <summary>A container id or name, shown in status instead of the pid.</summary>
    public string? Identity { get; init; }
}
