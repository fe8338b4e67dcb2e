using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>One authorization a user gave a client for a profile: the refresh-token family and its access tokens.</summary>
internal sealed record GrantInfo(string Id, string ClientId, string User, string Resource, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>
/// The built-in authorization server's grants (refresh-token families), listed and revoked by an operator (the
/// <c>grants</c> command, the admin API), by a client (RFC 7009), or on reuse of a code or refresh token. Revoking
/// a grant revokes its refresh tokens and records the grant as revoked until the last access token it
/// may have issued has expired; the token store reads those records, so those access tokens are refused too.
/// </summary>
internal sealed partial class GrantStore
{
    private readonly IGrantRepository _repository;
    private readonly TimeSpan _accessTokenTtl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action? _revoked;

    /// <param name="revoked">Called after grants were revoked (the token store re-reads the revoked grants at once).</param>
    public GrantStore(IGrantRepository repository, TimeSpan accessTokenTtl, TimeProvider time, ILogger logger, Action? revoked = null)
    {
        _repository = repository;
        _accessTokenTtl = accessTokenTtl;
        _time = time;
        _logger = logger;
        _revoked = revoked;
    }

    /// <summary>The grants whose refresh tokens have not expired, newest first; revoked ones included (marked).</summary>
    public List<GrantInfo> ListGrants(string? user = null) => _repository.List(user, _time.GetUtcNow());

    /// <summary>Revokes the grant <paramref name="grant"/>, or every grant of <paramref name="user"/>. Returns how many were active.</summary>
    public int RevokeGrants(string? grant, string? user)
    {
        var now = _time.GetUtcNow();
        IReadOnlyList<string> grants;
        using (var transaction = _repository.Begin())
        {
            grants = transaction.ActiveGrants(grant, user, now);
            foreach (var family in grants)
            {
                RevokeFamily(transaction, family, now);
            }

            transaction.Commit();
        }

        if (grants.Count > 0)
        {
            Revoked();
            Log.GrantsRevoked(_logger, grants.Count, grant ?? $"user {user}");
        }

        return grants.Count;
    }

    /// <summary>
    /// RFC 7009: a client revokes one of its refresh tokens, or (given the grant an access token it presented names)
    /// one of its access tokens; either way the whole grant goes. A token that is unknown, expired or another
    /// client's changes nothing, and the caller answers 200 all the same, as the RFC asks.
    /// </summary>
    public void RevokeByClient(string clientId, string? refreshToken, string? accessTokenGrant)
    {
        using (var transaction = _repository.Begin())
        {
            if (transaction.GrantOfClient(clientId, refreshToken is null ? null : TokenSecrets.Hash(refreshToken), accessTokenGrant) is not { } family)
            {
                return;
            }

            RevokeFamily(transaction, family, _time.GetUtcNow());
            transaction.Commit();
        }

        Revoked();
        Log.GrantsRevoked(_logger, 1, $"client {clientId}");
    }

    /// <summary>
    /// Revokes a grant inside the caller's unit of work, remembered as revoked until its last access token has
    /// expired; the caller commits, then calls <see cref="Revoked"/>.
    /// </summary>
    public void RevokeFamily(IGrantTransaction transaction, string family, DateTimeOffset now)
        => transaction.RevokeGrant(family, now, now + _accessTokenTtl + Jwt.JsonWebToken.ClockSkew + TimeSpan.FromSeconds(1));

    /// <summary>After a commit that revoked grants: the token store re-reads them, so their access tokens stop at once.</summary>
    public void Revoked() => _revoked?.Invoke();

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.OAuthGrantsRevoked, LogLevel.Information, "Revoked {Count} OAuth grant(s): {Which}")]
        public static partial void GrantsRevoked(ILogger logger, int count, string which);
    }
}
