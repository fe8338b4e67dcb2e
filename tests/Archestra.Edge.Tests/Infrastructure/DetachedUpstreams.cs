using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Supervision;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Tests.Infrastructure;

/// <summary>Upstream services without a gateway around them: events go nowhere, status is empty.</summary>
internal static class DetachedUpstreams
{
    public static UpstreamServices Services(TimeProvider timeProvider, ITransportFactory? transports = null)
        => new(NullLoggerFactory.Instance, timeProvider, new NoEvents(), new NoIntrospection(), transports: transports);

    private sealed class NoEvents : IUpstreamEvents
    {
        public void OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened, ICallerContext? owner)
        {
        }

        public void OnSessionClosed(UpstreamServer server, UpstreamSession session, ICallerContext? owner)
        {
        }

        public void OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner) => message.Dispose();

        public void OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner) => message.Dispose();
    }

    private sealed class NoIntrospection : IGatewayIntrospection
    {
        public DateTimeOffset StartedAt => DateTimeOffset.UnixEpoch;

        public IReadOnlyList<ServerStatus> ServersOf(string profile) => [];

        public IReadOnlyList<ServerStatus> AllServers() => [];
    }
}
