using Archestra.Edge.Configuration;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>What every upstream server shares: one HTTP connection pool, time, logging, and where events go.</summary>
internal sealed class UpstreamServices : IDisposable
{
    private readonly SocketsHttpHandler _handler;

    public UpstreamServices(ILoggerFactory loggerFactory, TimeProvider timeProvider, IUpstreamEvents events, IGatewayIntrospection introspection)
    {
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
        Events = events;
        Introspection = introspection;
        _handler = new SocketsHttpHandler
        {
            // One pool for all remote upstreams; connections are reused across calls and sessions.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            MaxConnectionsPerServer = 256,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
            EnableMultipleHttp2Connections = true,
        };
    }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider TimeProvider { get; }

    public IUpstreamEvents Events { get; }

    public IGatewayIntrospection Introspection { get; }

    /// <summary>A seam for benchmarks and tests: when set, it opens sessions instead of the real transports.</summary>
    public Func<ServerModel, IUpstreamListener, UpstreamSession?>? SessionFactory { get; init; }

    /// <summary>An invoker for one upstream over the shared handler (disposing it leaves the pool alone).</summary>
    public HttpMessageInvoker CreateInvoker() => new(_handler, disposeHandler: false);

    public void Dispose() => _handler.Dispose();
}

/// <summary>Where upstream servers report what happens outside of calls.</summary>
internal interface IUpstreamEvents
{
    /// <summary>
    /// A session opened; <paramref name="reopened"/> when it replaces an earlier one (whose lists may differ).
    /// <paramref name="owner"/> is the one downstream session it serves (<c>sharing: per_session</c>), else null.
    /// </summary>
    void OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened, ICallerContext? owner);

    void OnSessionClosed(UpstreamServer server, UpstreamSession session, ICallerContext? owner);

    /// <summary>A notification outside of any call. The receiver owns the message.</summary>
    void OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner);

    /// <summary>A server-to-client request outside of any call. The receiver owns the message and must answer it.</summary>
    void OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner);
}
