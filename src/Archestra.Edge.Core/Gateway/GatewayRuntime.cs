using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Supervision;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway;

/// <summary>
/// Everything the gateway runs for one configuration: the upstream servers, the profiles with their catalogs,
/// the downstream sessions. It also receives what upstreams send outside of calls and routes it to the right
/// sessions (partial: <c>GatewayRuntime.Events.cs</c>).
/// </summary>
internal sealed partial class GatewayRuntime : IUpstreamEvents, IGatewayIntrospection, IAsyncDisposable
{
    private readonly UpstreamServices _upstreamServices;
    private readonly ILogger _logger;
    private readonly Dictionary<(UpstreamServer, CatalogKind), ServerListCache> _listCaches = [];
    private readonly RuntimeEvents _events;

    public GatewayRuntime(GatewaySnapshot snapshot, ILoggerFactory loggerFactory, TimeProvider timeProvider,
        Upstreams.Supervision.ITransportFactory? transports = null, SelfHosting? selfHosting = null, Identity.IdentityServices? identity = null,
        GatewayRuntime? predecessor = null, Fleet.FleetNode? fleet = null, Pinning.PinReporter? pinReports = null,
        Upstreams.OAuth.ConnectionStore? connections = null)
    {
        Fleet = predecessor?.Fleet ?? fleet ?? Archestra.Edge.Fleet.FleetNode.Standalone();
        Authenticator = new Identity.Authenticator(snapshot, identity, loggerFactory.CreateLogger("Archestra.Edge.Identity"));
        Identity = identity;
        Snapshot = snapshot;
        TimeProvider = timeProvider;
        RateLimits = new Limits.RateLimits(snapshot.Limits, timeProvider, predecessor?.RateLimits, Fleet);
        _logger = loggerFactory.CreateLogger("Archestra.Edge.Gateway");
        PinReports = predecessor?.PinReports ?? pinReports ?? new Pinning.PinReporter(loggerFactory.CreateLogger("Archestra.Edge.Gateway.Pinning"), timeProvider, null, null);
        if (predecessor is null)
        {
            StartedAt = timeProvider.GetUtcNow();
            _events = new RuntimeEvents { Target = this };
            _upstreamServices = new UpstreamServices(loggerFactory, timeProvider, _events, _events, selfHosting, transports);
            if (connections is not null)
            {
                _upstreamServices.Connections = new Upstreams.OAuth.UpstreamConnections(connections.Repository, connections.Vault, _upstreamServices.CreateOAuthClient(),
                    timeProvider, loggerFactory.CreateLogger("Archestra.Edge.Upstreams.OAuth"));
            }

            Sessions = new SessionStore(Fleet.SessionIds);
            Subscriptions = new ResourceSubscriptions();
        }
        else
        {
            // A reload: the same process-wide parts, the same sessions; servers are carried over where unchanged.
            StartedAt = predecessor.StartedAt;
            _events = predecessor._events;
            _upstreamServices = predecessor._upstreamServices;
            Sessions = predecessor.Sessions;
            Subscriptions = predecessor.Subscriptions;
        }

        if (_upstreamServices.Connections is { } live)
        {
            // The connect page's address: server.public_url, else the address bound (known once listening), else the configured one.
            live.ConnectBase = () => snapshot.Listener.PublicBase ?? identity?.ListenBase ?? snapshot.Listener.LocalBase;
        }

        var servers = new Dictionary<string, UpstreamServer>(StringComparer.Ordinal);
        foreach (var model in snapshot.Servers)
        {
            if (predecessor?.CarriedOver(model, snapshot) is { } kept)
            {
                servers[model.Name] = kept;
                foreach (var kind in CatalogKinds.All)
                {
                    _listCaches[(kept, kind)] = predecessor._listCaches[(kept, kind)];
                }

                continue;
            }

            var server = new UpstreamServer(model, _upstreamServices, snapshot.Identity);
            servers[model.Name] = server;
            foreach (var kind in CatalogKinds.All)
            {
                _listCaches[(server, kind)] = new ServerListCache(server, kind, timeProvider) { Changed = OnListRefreshed };
            }
        }

        Servers = servers.ToFrozenDictionary(StringComparer.Ordinal);
        var catalogLogger = loggerFactory.CreateLogger("Archestra.Edge.Gateway.Catalog");
        var profiles = new Dictionary<string, ProfileRuntime>(StringComparer.Ordinal);
        foreach (var model in snapshot.ProfileList)
        {
            var catalogs = new CatalogHolder[CatalogKinds.All.Length];
            foreach (var kind in CatalogKinds.All)
            {
                var assignments = kind switch
                {
                    CatalogKind.Tools => model.Tools,
                    CatalogKind.Prompts => model.Prompts,
                    _ => model.Resources,
                };
                catalogs[(int)kind] = new CatalogHolder(kind, model, Sources(assignments, kind), catalogLogger, snapshot.Pins, PinReports);
            }

            var resourceServers = ImmutableArray.CreateBuilder<(AssignmentModel, UpstreamServer)>();
            foreach (var assignment in model.Resources)
            {
                resourceServers.Add((assignment, Servers[assignment.Server]));
            }

            var members = new List<UpstreamServer>();
            foreach (var assignment in model.Tools.Concat(model.Prompts).Concat(model.Resources))
            {
                var server = Servers[assignment.Server];
                if (!members.Contains(server))
                {
                    members.Add(server);
                }
            }

            profiles[model.Name] = new ProfileRuntime(model, catalogs, resourceServers.ToImmutable(), [.. members]);
        }

        Profiles = profiles.ToFrozenDictionary(StringComparer.Ordinal);
        ProfileLookup = Profiles.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public GatewaySnapshot Snapshot { get; }

    /// <summary>How fresh a server's tool list is: when it was read, how many tools it held, whether the read failed (the console's servers page).</summary>
    public (DateTimeOffset? ReadAt, int? Tools, string? Error) ToolListOf(string server)
    {
        foreach (var ((upstream, kind), cache) in _listCaches)
        {
            if (kind == Catalog.CatalogKind.Tools && upstream.Name == server)
            {
                var settled = cache.Settled;
                return (cache.ReadAt, settled is { Failed: false } list ? list.Items.Length : null, settled?.Failed == true ? settled.Error.Message : null);
            }
        }

        return (null, null, null);
    }

    /// <summary>Who requests come from, and whether they may use a profile.</summary>
    public Identity.Authenticator Authenticator { get; }

    /// <summary>Tokens, keys and OAuth clients (null for in-process hosts without a data directory).</summary>
    public Identity.IdentityServices? Identity { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>The OAuth connections to upstreams (null without <c>storage.encryption_key</c> or a state store).</summary>
    public Upstreams.OAuth.UpstreamConnections? Connections => _upstreamServices.Connections;

    /// <summary>The rate limits of <c>limits:</c> (each null when not configured).</summary>
    public Limits.RateLimits RateLimits { get; }

    /// <summary>This process in its fleet (alone unless <c>storage: postgres</c>): session ids, shared keys, the live members.</summary>
    public Fleet.FleetNode Fleet { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Says (once) what pinned definitions no longer match the lock file; kept across reloads.</summary>
    public Pinning.PinReporter PinReports { get; }

    public FrozenDictionary<string, UpstreamServer> Servers { get; }

    public FrozenDictionary<string, ProfileRuntime> Profiles { get; }

    public FrozenDictionary<string, ProfileRuntime>.AlternateLookup<ReadOnlySpan<char>> ProfileLookup { get; }

    public SessionStore Sessions { get; }

    public ResourceSubscriptions Subscriptions { get; }

    public IReadOnlyList<ServerStatus> ServersOf(string profile)
    {
        if (!Profiles.TryGetValue(profile, out var runtime))
        {
            return [];
        }

        var result = new ServerStatus[runtime.Servers.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = runtime.Servers[i].Status();
        }

        return result;
    }

    public IReadOnlyList<ServerStatus> AllServers()
    {
        var result = new List<ServerStatus>(Servers.Count);
        foreach (var model in Snapshot.Servers)
        {
            result.Add(Servers[model.Name].Status());
        }

        return result;
    }

    /// <summary>
    /// Start-up work for self-hosted servers: kill process groups and remove containers a previous run of this
    /// gateway left behind, then start the <c>start: eager</c> servers (in the background).
    /// </summary>
    public async Task StartSupervisionAsync(CancellationToken cancellationToken)
    {
        _upstreamServices.Children.ReapLeftovers();
        var runtimes = new HashSet<ContainerRuntimeKind>();
        foreach (var model in Snapshot.Servers)
        {
            if (model.Container is { } container)
            {
                runtimes.Add(container.Runtime);
            }
        }

        foreach (var runtime in runtimes)
        {
            await _upstreamServices.Containers.SweepAsync(runtime, cancellationToken).ConfigureAwait(false);
        }

        foreach (var server in Servers.Values)
        {
            if (server.Model.IsSelfHosted && server.Model.Supervision.Start == StartMode.Eager)
            {
                server.WarmUpAll();
            }
        }
    }

    /// <summary>The containers of this gateway instance that exist right now, per runtime in use (for status).</summary>
    internal Upstreams.Supervision.Containers.ContainerRuntime Containers => _upstreamServices.Containers;

    /// <summary>Ends a session: removes it, closes its streams, and releases what it held upstream.</summary>
    public void EndSession(DownstreamSession session)
    {
        if (!Sessions.TryRemove(session.Id, out _))
        {
            return;
        }

        session.Close();
        foreach (var (server, uri) in Subscriptions.RemoveSession(session))
        {
            _ = UnsubscribeUpstreamAsync(server, uri);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in Sessions.All)
        {
            EndSession(session);
        }

        var stops = new List<Task>();
        foreach (var server in Servers.Values)
        {
            stops.Add(server.DisposeAsync().AsTask());
        }

        await Task.WhenAll(stops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var cache in _listCaches.Values)
        {
            cache.Dispose();
        }

        _upstreamServices.Dispose();
    }

    private ImmutableArray<(AssignmentModel, ServerListCache)> Sources(ImmutableArray<AssignmentModel> assignments, CatalogKind kind)
    {
        var result = ImmutableArray.CreateBuilder<(AssignmentModel, ServerListCache)>(assignments.Length);
        foreach (var assignment in assignments)
        {
            result.Add((assignment, _listCaches[(Servers[assignment.Server], kind)]));
        }

        return result.MoveToImmutable();
    }
}
