namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>One stored connection: whose (<c>org</c>, <c>team:…</c>, <c>user:…</c>) to which server, sealed, and when it was last written.</summary>
internal sealed record StoredConnection(string Server, string Owner, byte[] Sealed, DateTimeOffset UpdatedAt);

/// <summary>The gateway's connections to OAuth-protected upstreams, kept in the state store; the rows are sealed by <see cref="ConnectionVault"/>.</summary>
internal interface IConnectionRepository
{
    StoredConnection? Get(string server, string owner);

    IReadOnlyList<StoredConnection> List();

    /// <summary>Which connections exist (server, owner), without their sealed payloads: read every few seconds to choose a caller's.</summary>
    IReadOnlyList<(string Server, string Owner)> Owners();

    void Put(string server, string owner, byte[] sealedConnection, DateTimeOffset at);

    bool Delete(string server, string owner);
}
