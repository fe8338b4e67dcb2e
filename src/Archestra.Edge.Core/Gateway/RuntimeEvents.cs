using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway;

/// <summary>
/// What upstream servers report, delivered to whichever runtime is current: servers carried over by a reload keep
/// reporting here, and the reload points <see cref="Target"/> at the new runtime.
/// </summary>
internal sealed class RuntimeEvents : IUpstreamEvents, IGatewayIntrospection
{
    private volatile GatewayRuntime? _target;

    public required GatewayRuntime Target
    {
        get => _target!;
        set => _target = value;
    }

    private IUpstreamEvents Events => _target!;

    public DateTimeOffset StartedAt => _target!.StartedAt;

    public IReadOnlyList<ServerStatus> ServersOf(string profile) => _target!.ServersOf(profile);

    public IReadOnlyList<ServerStatus> AllServers() => _target!.AllServers();

    public void OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened, ICallerContext? owner)
        => Events.OnSessionOpened(server, session, reopened, owner);

    public void OnSessionClosed(UpstreamServer server, UpstreamSession session, ICallerContext? owner)
        => Events.OnSessionClosed(server, session, owner);

    public void OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner)
        => Events.OnNotification(server, session, message, owner);

    public void OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner)
        => Events.OnRequest(server, session, message, owner);
}
