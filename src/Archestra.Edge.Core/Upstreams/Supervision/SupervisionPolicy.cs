namespace Archestra.Edge.Upstreams.Supervision;

internal enum StartMode
{
    /// <summary>Started on first use.</summary>
    Lazy,

    /// <summary>Started with the gateway, and restarted whenever it exits.</summary>
    Eager,
}

/// <summary>How a self-hosted server is started, stopped when idle, restarted and checked.</summary>
internal sealed record SupervisionPolicy(StartMode Start, TimeSpan? IdleStop, RestartPolicy Restart, HealthPolicy Health)
{
    public static readonly SupervisionPolicy Default = new(StartMode.Lazy, null, RestartPolicy.Default, HealthPolicy.Default);
}

/// <summary>
/// Restart delays: the first restart after a stable run is immediate; each further failure in a row doubles the
/// delay from <see cref="InitialBackoff"/> up to <see cref="MaxBackoff"/>, with ±20% jitter. After
/// <see cref="CrashLoopAfter"/> failures in a row the server is in a crash loop and left alone for <see cref="CrashLoopPause"/>.
/// </summary>
internal sealed record RestartPolicy(TimeSpan InitialBackoff, TimeSpan MaxBackoff, int CrashLoopAfter, TimeSpan CrashLoopPause)
{
    public static readonly RestartPolicy Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 5, TimeSpan.FromMinutes(5));

    /// <summary>A server that stays up this long has recovered: its failure count starts over.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(60);
}

/// <summary>Liveness by MCP ping: every <see cref="PingInterval"/> (null: never), failing after <see cref="PingTimeout"/>.</summary>
internal sealed record HealthPolicy(TimeSpan? PingInterval, TimeSpan PingTimeout)
{
    public static readonly HealthPolicy Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
}
