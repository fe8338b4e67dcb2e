using System.Security.Cryptography.X509Certificates;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting;

/// <summary>Options of the process that are not part of the config file.</summary>
internal sealed record GatewayApplicationOptions
{
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Overrides <c>server.listen</c> (tests use port 0).</summary>
    public IReadOnlyList<string>? ListenOverride { get; init; }

    /// <summary>
    /// How self-hosted servers run: a gateway process runs each child under its own executable in <c>__child</c> mode
    /// (own process group, dies with the gateway) and records it in <c>data_dir/children</c>
    /// (<see cref="Upstreams.SelfHosting.ForDataDirectory"/>); an in-process host starts children directly
    /// (<see cref="Upstreams.SelfHosting.Unsupervised"/>).
    /// </summary>
    public required Upstreams.SelfHosting SelfHosting { get; init; }

    /// <summary>
    /// Opens the state (tokens, OAuth, audit), given this instance's id and a logger, when <c>auth:</c> or <c>audit:</c>
    /// need it, or at start with <c>storage: postgres</c> (the fleet's secret and membership live there too); a gateway
    /// process opens what <c>storage:</c> names (<see cref="Storage.StateStores.Open"/>). Null: no state, so no audit
    /// trail and no auth that needs storage.
    /// </summary>
    public Func<string, ILogger, Storage.StateStores>? OpenState { get; init; }
}

/// <summary>Builds the ASP.NET Core application for a compiled configuration: Kestrel, services and endpoints.</summary>
internal static class GatewayApplication
{
    public static WebApplication Build(GatewaySnapshot snapshot, GatewayApplicationOptions options)
    {
        // The empty builder: no appsettings.json, no environment-variable configuration, and above all no file
        // watcher on the content root (which walks the whole directory tree at start-up). archestra.yaml is the
        // only configuration.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = Utilities.BuildInfo.ProductName,
            ContentRootPath = Path.GetDirectoryName(Path.GetFullPath(snapshot.SourcePath)) ?? Directory.GetCurrentDirectory(),
        });
        builder.WebHost.UseKestrelCore();

        builder.Logging.ClearProviders();
        if (snapshot.JsonLogs)
        {
            // One JSON object per line (Timestamp, EventId, LogLevel, Category, Message, State) for log shippers.
            builder.Logging.AddJsonConsole(console =>
            {
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                console.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
                console.UseUtcTimestamp = true;
            });
        }
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        // Per-request framework chatter stays out of the operator's log unless asked for.
        builder.Logging.AddFilter("Microsoft.AspNetCore", options.MinimumLogLevel <= LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        var listen = options.ListenOverride ?? snapshot.Listener.Listen.Select(u => u.GetLeftPart(UriPartial.Authority)).ToArray();
        builder.WebHost.UseUrls([.. listen]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = snapshot.Limits.MaxRequestBytes;
            // Slow-client protection: a client must send headers promptly (limits.request_headers_timeout), and a
            // body at least at Kestrel's minimum rate (240 bytes/s after a 5 s grace period).
            kestrel.Limits.RequestHeadersTimeout = snapshot.Limits.RequestHeadersTimeout;
            // Descriptor exhaustion: open connections are capped (past it Kestrel closes new ones at once), and an idle
            // keep-alive connection is closed after limits.keep_alive_timeout. Streams in use are not idle.
            kestrel.Limits.MaxConcurrentConnections = snapshot.Limits.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = snapshot.Limits.MaxConnections;
            kestrel.Limits.KeepAliveTimeout = snapshot.Limits.KeepAliveTimeout;
            if (snapshot.Listener.Tls is { } tls)
            {
                kestrel.ConfigureHttpsDefaults(https =>
                    https.ServerCertificate = X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath));
            }
        });
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(10));

        var services = builder.Services;
        services.AddSingleton(options.TimeProvider);
        services.AddSingleton(snapshot);
        var selfHosting = options.SelfHosting;
        // State is opened at start when auth: or a fleet needs it, else by the audit writer in the background (never on
        // the start-up path). A host without state has no audit trail.
        var instance = Fleet.FleetNode.NewInstance();
        var instanceId = Convert.ToHexStringLower(instance);
        var stateGate = new Lock();
        var stateOpened = false;
        Storage.StateStores? stores = null;
        Storage.StateStores? State(IServiceProvider sp)
        {
            lock (stateGate)
            {
                if (!stateOpened)
                {
                    stores = options.OpenState?.Invoke(instanceId, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Storage"));
                    stateOpened = true;
                }

                return stores;
            }
        }

        var inFleet = snapshot.Storage.IsPostgres && options.OpenState is not null;
        services.AddSingleton(sp => inFleet && State(sp)?.Fleet is { } fleet
            ? Fleet.FleetNode.Join(fleet, instance, snapshot.Listener.AdvertiseUrl, () => sp.GetRequiredService<GatewayHost>().Current.Snapshot.ConfigFingerprint,
                options.TimeProvider, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Fleet"))
            : Fleet.FleetNode.Standalone(instance));
        if (inFleet)
        {
            services.AddHostedService(sp => sp.GetRequiredService<Fleet.FleetNode>().Membership!);
        }

        services.AddSingleton(sp => new Identity.IdentityServices(
            snapshot,
            snapshot.Auth.Enabled ? State(sp) : null,
            options.TimeProvider,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<Fleet.FleetNode>()));
        var audit = options.OpenState is null ? snapshot.Audit with { Enabled = false } : snapshot.Audit;
        services.AddSingleton(sp => new Observability.Audit.AuditTrail(audit, () => State(sp)!.Audit, options.TimeProvider,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Audit")));
        services.AddHostedService(sp => sp.GetRequiredService<Observability.Audit.AuditTrail>());
        if (snapshot.Tracing is { } tracing)
        {
            services.AddSingleton(sp => new Observability.Tracing.OtlpExporter(tracing, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Tracing")));
            services.AddHostedService(sp => sp.GetRequiredService<Observability.Tracing.OtlpExporter>());
        }
        services.AddSingleton(sp => new Gateway.Pinning.PinReporter(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Gateway.Pinning"),
            options.TimeProvider, sp.GetRequiredService<Observability.GatewayMetrics>(), sp.GetRequiredService<Observability.Audit.AuditTrail>()));
        services.AddSingleton(sp => new GatewayHost(new GatewayRuntime(snapshot, sp.GetRequiredService<ILoggerFactory>(), options.TimeProvider,
            selfHosting: selfHosting, identity: sp.GetRequiredService<Identity.IdentityServices>(), fleet: sp.GetRequiredService<Fleet.FleetNode>(),
            pinReports: sp.GetRequiredService<Gateway.Pinning.PinReporter>(),
            connections: snapshot.Storage.EncryptionKeys.IsEmpty || options.OpenState is null
                ? null
                : new Upstreams.OAuth.ConnectionStore(State(sp)!.Connections, new Upstreams.OAuth.ConnectionVault(snapshot.Storage.EncryptionKeys)))));
        services.AddSingleton(sp => new ConfigReloader(
            sp.GetRequiredService<GatewayHost>(),
            (next, current) => new GatewayRuntime(next, sp.GetRequiredService<ILoggerFactory>(), options.TimeProvider,
                identity: sp.GetRequiredService<Identity.IdentityServices>(), predecessor: current),
            sp.GetRequiredService<Identity.IdentityServices>(),
            sp.GetRequiredService<Observability.GatewayMetrics>(),
            options.TimeProvider,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Reload")));
        services.AddHostedService(sp => sp.GetRequiredService<ConfigReloader>());
        services.AddSingleton<Observability.GatewayMetrics>();
        services.AddSingleton(sp =>
        {
            var fleet = sp.GetRequiredService<Fleet.FleetNode>();
            return new Gateway.Stateless.RequestStates(options.TimeProvider, fleet.StateKey, fleet.InFleet ? fleet.Instance : null);
        });
        services.AddSingleton<CallRelay>();
        services.AddSingleton<McpPostHandler>();
        services.AddSingleton<Admin.AdminHandler>();
        services.AddSingleton<ConnectEndpoints>();
        services.AddSingleton<Connections.ConnectPageEndpoints>();
        services.AddSingleton(sp => new Console.ConsoleEndpoints(sp.GetRequiredService<GatewayHost>(), sp.GetRequiredService<ConfigReloader>(),
            sp.GetRequiredService<Observability.Audit.AuditTrail>(), sp.GetRequiredService<ILogger<Console.ConsoleEndpoints>>()));
        services.AddSingleton(sp => new ObservabilityEndpoints(
            sp.GetRequiredService<GatewayHost>(),
            sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(),
            sp.GetRequiredService<Observability.GatewayMetrics>(),
            sp.GetRequiredService<ConfigReloader>(),
            sp.GetRequiredService<Observability.Audit.AuditTrail>(),
            sp.GetService<Observability.Tracing.OtlpExporter>()));
        services.AddSingleton<Identity.OAuth.AuthorizationServerEndpoints>();
        services.AddHostedService<SessionSweeper>();
        services.AddHostedService<SupervisionStarter>();
        services.AddRoutingCore();
        services.AddLogging();

        var app = builder.Build();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
            if (addresses?.FirstOrDefault() is { } first)
            {
                app.Services.GetRequiredService<Identity.IdentityServices>().SetListenAddress(first);
                app.Services.GetRequiredService<Fleet.FleetNode>().Membership?.SetListenAddress(first);
            }
        });
        app.UseEdgeGuard();
        app.UseBrowserAccess();
        app.UseMcpEndpoints();
        app.UseRouting();
        app.Services.GetRequiredService<Admin.AdminHandler>().Map(app);
        app.Services.GetRequiredService<ConnectEndpoints>().Map(app);
        app.Services.GetRequiredService<Connections.ConnectPageEndpoints>().Map(app);
        app.Services.GetRequiredService<Console.ConsoleEndpoints>().Map(app);
        app.Services.GetRequiredService<ObservabilityEndpoints>().Map(app, snapshot.MetricsPath);
        app.Services.GetRequiredService<Identity.OAuth.AuthorizationServerEndpoints>().Map(app);
        return app;
    }
}
