namespace Archestra.Edge.Identity;

/// <summary>
/// Where issued <c>archestra_…</c> tokens (their hashes) and revoked OAuth grants are kept, so that every process
/// sharing the store sees them: the <see cref="TokenStore"/> indexes what it reads here.
/// </summary>
internal interface ITokenRepository : IDisposable
{
    void Add(TokenRecord token);

    /// <summary>Revokes the active token with this id, or with this name when only one active token has it. False if none.</summary>
    bool Revoke(string idOrName, DateTimeOffset at);

    /// <summary>Every issued token, revoked ones included, oldest first.</summary>
    IReadOnlyList<TokenRecord> LoadAll();

    /// <summary>The OAuth grants revoked while access tokens they issued may still be unexpired.</summary>
    IReadOnlyList<string> RevokedGrants(DateTimeOffset now);

    /// <summary>A number that changes whenever anyone (another process included) commits a change; polled every second.</summary>
    long ChangeVersion();

    /// <summary>
    /// Calls <paramref name="changed"/> as soon as anyone commits a change, where the store can say so (PostgreSQL's
    /// notifications); null where it cannot, and the poll of <see cref="ChangeVersion"/> is all there is.
    /// </summary>
    IDisposable? WatchChanges(Action changed);
}
