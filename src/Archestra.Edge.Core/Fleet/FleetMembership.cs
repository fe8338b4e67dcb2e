using System.Collections.Frozen;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Fleet;

/// <summary>
/// The live instances of the fleet, from heartbeats in PostgreSQL: every <see cref="BeatInterval"/> this instance
/// refreshes its row (its address, version and config fingerprint) and reads the others'. An instance is live while
/// its last beat is younger than <see cref="LiveWindow"/>; one that stops leaves at once, one killed drops out when its
/// beats stop. A missed beat (database down) keeps the last view, so a blip of the database ends no session.
/// </summary>
internal sealed partial class FleetMembership : BackgroundService
{
    public static readonly TimeSpan BeatInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan LiveWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_forgetAfter = TimeSpan.FromHours(1);

    private readonly IFleetRepository _repository;
    private readonly Func<string> _fingerprint;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _startedAt;
    private volatile FrozenDictionary<string, FleetMember> _members = FrozenDictionary<string, FleetMember>.Empty;

    private Uri? _advertiseUrl;

    public FleetMembership(IFleetRepository repository, string instance, Uri? advertiseUrl, Func<string> fingerprint, TimeProvider time, ILogger logger)
    {
        _repository = repository;
        Instance = instance;
        _advertiseUrl = advertiseUrl;
        _fingerprint = fingerprint;
        _time = time;
        _logger = logger;
        _startedAt = time.GetUtcNow();
    }

    public string Instance { get; }

    /// <summary>Where the other instances reach this one (<c>server.advertise_url</c>, or learnt from the bound address); null until known.</summary>
    public Uri? AdvertiseUrl => Volatile.Read(ref _advertiseUrl);

    /// <summary>
    /// Without <c>server.advertise_url</c>: the first address Kestrel bound, a wildcard host replaced by this machine's
    /// first non-loopback address (a pod's IP), then joins at once.
    /// </summary>
    public void SetListenAddress(string address)
    {
        if (AdvertiseUrl is not null || !Uri.TryCreate(address, UriKind.Absolute, out var bound))
        {
            return;
        }

        var host = bound.Host;
        if (Configuration.Validation.ConfigCompiler.IsWildcardHost(host) || host is "[::]")
        {
            host = MachineAddress() ?? "127.0.0.1";
        }

        Interlocked.CompareExchange(ref _advertiseUrl, new UriBuilder(bound.Scheme, host, bound.Port).Uri, null);
        Beat();
    }

    private static string? MachineAddress()
    {
        foreach (var nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != System.Net.NetworkInformation.OperationalStatus.Up || nic.NetworkInterfaceType == System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(unicast.Address))
                {
                    return unicast.Address.ToString();
                }
            }
        }

        return null;
    }

    /// <summary>The live instances, this one included once it has beaten.</summary>
    public FrozenDictionary<string, FleetMember> Members => _members;

    /// <summary>How many instances are live (at least 1: this one).</summary>
    public int LiveCount => Math.Max(1, _members.Count);

    /// <summary>The live instance <paramref name="instance"/>, if it is one.</summary>
    public bool TryGetLive(string instance, out FleetMember member) => _members.TryGetValue(instance, out member!);

    /// <summary>One heartbeat now: refresh this instance's row, read the live ones. False if the database could not be reached.</summary>
    public bool Beat()
    {
        if (AdvertiseUrl is not { } url)
        {
            return false; // not bound yet: nobody could reach this instance
        }

        try
        {
            var now = _time.GetUtcNow();
            _repository.Beat(new FleetMember(Instance, url, Utilities.BuildInfo.Version, _fingerprint(), _startedAt, now), now - s_forgetAfter);
            var live = _repository.Members(now - LiveWindow);
            var joined = _members.Count == 0;
            _members = live.ToFrozenDictionary(m => m.Instance, StringComparer.Ordinal);
            if (joined)
            {
                Log.Joined(_logger, Instance, url.ToString(), live.Count);
            }

            return true;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException or TimeoutException)
        {
            Log.BeatFailed(_logger, ex.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(BeatInterval, _time);
        do
        {
            await Task.Run(Beat, CancellationToken.None).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _repository.Leave(Instance);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException or TimeoutException)
        {
            Log.BeatFailed(_logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.FleetHeartbeatFailed, LogLevel.Warning, "Fleet heartbeat failed ({Reason}); keeping the last view of the fleet")]
        public static partial void BeatFailed(ILogger logger, string reason);

        [LoggerMessage(Observability.EventIds.FleetJoined, LogLevel.Information, "Joined the fleet as instance {Instance} at {Url} ({Count} live)")]
        public static partial void Joined(ILogger logger, string instance, string url, int count);
    }
}
