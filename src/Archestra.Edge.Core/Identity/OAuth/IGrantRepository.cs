namespace Archestra.Edge.Identity.OAuth;

/// <summary>An authorization code as stored (by its hash), and whether it was redeemed already.</summary>
internal sealed record StoredCode(string ClientId, string RedirectUri, string Challenge, string User, string Resource, string? Scope, DateTimeOffset ExpiresAt, bool Used, string Grant);

/// <summary>A refresh token as stored (by its hash): its grant, and whether it was rotated or revoked already.</summary>
internal sealed record StoredRefreshToken(string Grant, string ClientId, string User, string Resource, string? Scope, DateTimeOffset ExpiresAt, bool Used, bool Revoked);

/// <summary>A code or refresh token to store: only the hash of the secret.</summary>
internal sealed record NewCode(byte[] Hash, string ClientId, string RedirectUri, string Challenge, string User, string Resource, string? Scope, DateTimeOffset ExpiresAt, string Grant);

internal sealed record NewRefreshToken(byte[] Hash, string Grant, string ClientId, string User, string Resource, string? Scope, DateTimeOffset ExpiresAt);

/// <summary>
/// Where the built-in authorization server keeps codes, refresh-token families (grants) and revoked grants. What must
/// be atomic — redeeming a code or rotating a refresh token once, and revoking a whole family on reuse — runs in one
/// <see cref="IGrantTransaction"/>.
/// </summary>
internal interface IGrantRepository
{
    void AddCode(NewCode code);

    /// <summary>The grants whose refresh tokens have not expired, newest first; revoked ones included (marked).</summary>
    List<GrantInfo> List(string? user, DateTimeOffset now);

    /// <summary>Begins a unit of work: what it reads is isolated, what it writes commits together or not at all.</summary>
    IGrantTransaction Begin();
}

/// <summary>One atomic unit of work on the grant store; disposing it without <see cref="Commit"/> rolls it back.</summary>
internal interface IGrantTransaction : IDisposable
{
    StoredCode? FindCode(byte[] hash);

    StoredRefreshToken? FindRefreshToken(byte[] hash);

    void MarkCodeUsed(byte[] hash, DateTimeOffset at);

    void MarkRefreshTokenUsed(byte[] hash, DateTimeOffset at);

    void AddRefreshToken(NewRefreshToken token);

    /// <summary>The unrevoked, unexpired grants that are <paramref name="grant"/> or belong to <paramref name="user"/>.</summary>
    IReadOnlyList<string> ActiveGrants(string? grant, string? user, DateTimeOffset now);

    /// <summary>The grant of <paramref name="clientId"/> holding this refresh token, or named <paramref name="grant"/>; null if it has none.</summary>
    string? GrantOfClient(string clientId, byte[]? refreshTokenHash, string? grant);

    /// <summary>
    /// Revokes the grant's refresh tokens and records it as revoked until <paramref name="revokedUntil"/> (when the last
    /// access token it issued expires), so those are refused too; records past their time are dropped.
    /// </summary>
    void RevokeGrant(string grant, DateTimeOffset at, DateTimeOffset revokedUntil);

    void Commit();
}
