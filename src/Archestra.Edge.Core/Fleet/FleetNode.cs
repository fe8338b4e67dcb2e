using System.Security.Cryptography;
using System.Text;

namespace Archestra.Edge.Fleet;

/// <summary>
/// This process's place in a fleet, or alone. It names the instance, mints session ids, and holds the keys whose
/// seals every instance must accept: the <c>requestState</c>s of 2026-07-28 calls and the consent forms of the
/// built-in authorization server (so a retry or a form submitted to another instance verifies there), and the
/// seal of forwarded requests. Alone, the keys are random per process and nothing else exists. In a fleet, every key
/// is derived (HMAC-SHA256 with a label) from the secret the first instance stored in PostgreSQL, and
/// <see cref="Membership"/> and <see cref="Forwarder"/> exist.
/// </summary>
internal sealed class FleetNode : IDisposable
{
    private FleetNode(byte[] instance, byte[]? secret, FleetMembership? membership, TimeProvider time, Microsoft.Extensions.Logging.ILogger? logger)
    {
        Time = time;
        Instance = Convert.ToHexStringLower(instance);
        StateKey = Key(secret, "request-state");
        ConsentKey = Key(secret, "consent");
        HopKey = Key(secret, "hop");
        SessionIds = secret is null ? SessionIds.Standalone : SessionIds.ForFleet(instance, Key(secret, "session-id"));
        Membership = membership;
        Forwarder = membership is null ? null : new FleetForwarder(this, logger!);
    }

    /// <summary>The clock hop seals are made and checked by.</summary>
    public TimeProvider Time { get; }

    /// <summary>This instance's id: 16 hex digits, new at every start (its sessions do not outlive it).</summary>
    public string Instance { get; }

    public SessionIds SessionIds { get; }

    /// <summary>Seals the <c>requestState</c>s handed to 2026-07-28 clients.</summary>
    public byte[] StateKey { get; }

    /// <summary>Seals the consent forms of the built-in authorization server.</summary>
    public byte[] ConsentKey { get; }

    /// <summary>Seals the <see cref="FleetHop"/> header of a request forwarded to its session's owner.</summary>
    public byte[] HopKey { get; }

    /// <summary>The live instances (null alone).</summary>
    public FleetMembership? Membership { get; }

    /// <summary>Forwards a session's requests to its owner (null alone).</summary>
    public FleetForwarder? Forwarder { get; }

    public bool InFleet => Membership is not null;

    /// <summary>How many instances share a fleet-wide limit now (1 alone).</summary>
    public int Share => Membership?.LiveCount ?? 1;

    public static FleetNode Standalone(byte[]? instance = null) => new(instance ?? NewInstance(), null, null, TimeProvider.System, null);

    /// <summary>Joins the fleet whose state <paramref name="repository"/> holds, as <paramref name="instance"/> (8 bytes, <see cref="NewInstance"/>).</summary>
    /// <param name="advertiseUrl">Where peers reach this instance; null: learnt from the first bound address (<see cref="FleetMembership.SetListenAddress"/>).</param>
    public static FleetNode Join(IFleetRepository repository, byte[] instance, Uri? advertiseUrl, Func<string> fingerprint, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger)
    {
        var membership = new FleetMembership(repository, Convert.ToHexStringLower(instance), advertiseUrl, fingerprint, time, logger);
        return new FleetNode(instance, repository.Secret(), membership, time, logger);
    }

    public void Dispose() => Forwarder?.Dispose();

    /// <summary>A new instance id: 8 random bytes.</summary>
    public static byte[] NewInstance()
    {
        var instance = new byte[8];
        Utilities.SecureRandom.Fill(instance);
        return instance;
    }

    private static byte[] Key(byte[]? secret, string label)
    {
        if (secret is null)
        {
            var key = new byte[32];
            Utilities.SecureRandom.Fill(key);
            return key;
        }

        return HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes("archestra-edge/" + label));
    }
}
