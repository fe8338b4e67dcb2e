using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams;

/// <summary>What every upstream server shares: one HTTP connection pool, time, logging, and where events go.</summary>
internal sealed class UpstreamServices : IDisposable
{
    private readonly SocketsHttpHandler _handler;

    public UpstreamServices(ILoggerFactory loggerFactory, TimeProvider timeProvider, IUpstreamEvents events, IGatewayIntrospection introspection, SelfHosting? selfHosting = null,
        Supervision.ITransportFactory? transports = null)
    {
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
        Events = events;
        Introspection = introspection;
        selfHosting ??= SelfHosting.Unsupervised;
        var supervisionLogger = loggerFactory.CreateLogger("Archestra.Edge.Upstreams.Supervision");
        Children = new Supervision.Processes.ChildProcesses(selfHosting.ShimPath, selfHosting.RecordDirectory, supervisionLogger);
        Containers = new Supervision.Containers.ContainerRuntime(selfHosting.InstanceId, supervisionLogger);
        Transports = transports ?? new Supervision.TransportFactory(this);
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

    /// <summary>Starts child processes so that none outlives the gateway.</summary>
    public Supervision.Processes.ChildProcesses Children { get; }

    /// <summary>Runs container servers, labelled with this gateway instance.</summary>
    public Supervision.Containers.ContainerRuntime Containers { get; }

    /// <summary>The OAuth connections remote servers with <c>oauth:</c> are called with (null: no store, e.g. in-process hosts).</summary>
    public OAuth.UpstreamConnections? Connections { get; set; }

    /// <summary>Opens replicas' sessions: the real transports, or a stand-in given by benchmarks and tests.</summary>
    public Supervision.ITransportFactory Transports { get; }

    /// <summary>The bounded client of OAuth exchanges with upstreams' authorization servers, over the shared pool.</summary>
    public HttpClient CreateOAuthClient() => OAuth.AuthorizationDiscovery.CreateClient(_handler);

    /// <summary>An invoker for one upstream over the shared handler (disposing it leaves the pool alone).</summary>
    public HttpMessageInvoker CreateInvoker() => new(_handler, disposeHandler: false);

    public void Dispose()
    {
        _handler.Dispose();
        Children.Dispose();
    }
}

/// <summary>
/// How this gateway runs its own servers: the shim binary (the gateway's own executable, <c>__child</c> mode),
/// where running children are recorded, and the instance id that labels its containers.
/// </summary>
internal sealed record SelfHosting(string? ShimPath, string? RecordDirectory, string InstanceId)
{
    /// <summary>For in-process hosts (tests, benchmarks): children started directly, nothing recorded.</summary>
    public static readonly SelfHosting Unsupervised = new(null, null, "inproc");

    /// <summary>
    /// The settings of a gateway process: children under <paramref name="shimPath"/>, recorded in
    /// <c>data_dir/children</c>, containers labelled with the id kept in <c>data_dir/instance-id</c> (created once).
    /// </summary>
    public static SelfHosting ForDataDirectory(string dataDirectory, string? shimPath)
    {
        Directory.CreateDirectory(dataDirectory);
        var idFile = Path.Combine(dataDirectory, "instance-id");
        var id = File.Exists(idFile) ? File.ReadAllText(idFile).Trim() : string.Empty;
        if (id.Length is < 4 or > 32 || !id.All(char.IsAsciiLetterOrDigit))
        {
            id = Utilities.SecureRandom.HexString(6);
            File.WriteAllText(idFile, id + "\n");
        }

        return new SelfHosting(shimPath, Path.Combine(dataDirectory, "children"), id);
    }
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
