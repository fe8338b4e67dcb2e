namespace Archestra.Edge.Identity.OAuth;

/// <summary>Where clients registered with the built-in authorization server (RFC 7591) are kept.</summary>
internal interface IClientRepository
{
    int Count();

    void Add(OAuthClient client, DateTimeOffset at);

    OAuthClient? Find(string clientId);

    /// <summary>Notes that the client signed a user in.</summary>
    void Touch(string clientId, DateTimeOffset at);

    /// <summary>
    /// Deletes registered clients never used since before <paramref name="unusedBefore"/>, and those last used before
    /// <paramref name="idleBefore"/>. Returns how many went.
    /// </summary>
    int Prune(DateTimeOffset unusedBefore, DateTimeOffset idleBefore);
}
