namespace Archestra.Edge.Fleet;

/// <summary>An instance of the fleet as it last said: where its peers reach it, what it runs, when it was last seen.</summary>
internal sealed record FleetMember(string Instance, Uri Url, string Version, string Fingerprint, DateTimeOffset StartedAt, DateTimeOffset SeenAt);

/// <summary>Where the instances of a fleet find each other and the secret they share (PostgreSQL's <c>fleet_*</c> tables).</summary>
internal interface IFleetRepository
{
    /// <summary>The fleet's secret: 32 random bytes made once by the first instance, the root of every key instances share.</summary>
    byte[] Secret();

    /// <summary>Records that <paramref name="self"/> is alive (its row inserted or refreshed); forgets instances not seen since <paramref name="forgetBefore"/>.</summary>
    void Beat(FleetMember self, DateTimeOffset forgetBefore);

    /// <summary>The instances seen since <paramref name="seenSince"/>, by id.</summary>
    IReadOnlyList<FleetMember> Members(DateTimeOffset seenSince);

    /// <summary>Removes an instance that stops (its sessions end with it).</summary>
    void Leave(string instance);
}
