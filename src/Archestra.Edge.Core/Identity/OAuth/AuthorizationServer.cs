using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>What the token endpoint hands out.</summary>
internal sealed record IssuedTokens(string AccessToken, int ExpiresIn, string RefreshToken, string Scope);

/// <summary>
/// The logic of the built-in OAuth 2.1 authorization server (the HTTP side is <see cref="AuthorizationServerEndpoints"/>):
/// authorization codes (one use, 60 s, bound to client, redirect URI, PKCE S256 challenge, user and resource), JWT
/// access tokens whose audience is the profile URL, and refresh tokens rotated on every use: presenting a used
/// refresh token again revokes its whole family (the code's descendants), as does reusing a code. A family is a
/// grant: its id is the access tokens' <c>sid</c>, and revoking it (reuse, RFC 7009 revocation, the <c>grants</c>
/// command) stops its access tokens as well as its refresh tokens.
/// </summary>
internal sealed partial class AuthorizationServer
{
    private static readonly TimeSpan s_codeLifetime = TimeSpan.FromSeconds(60);

    private readonly IGrantRepository _repository;
    private readonly SigningKeys _keys;
    private readonly BuiltinAuthorizationServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="consentKey">Seals consent forms (a fleet's shared key, so any instance accepts the form; null: one of this process).</param>
    public AuthorizationServer(IGrantRepository repository, SigningKeys keys, BuiltinAuthorizationServerSettings settings, TimeProvider time, ILogger logger, GrantStore grants, byte[]? consentKey = null)
    {
        Grants = grants;
        _repository = repository;
        _keys = keys;
        _settings = settings;
        _time = time;
        _logger = logger;
        Pending = new PendingAuthorizations(time, consentKey);
    }

    /// <summary>Authorization requests waiting at the consent page (sealed into the page, not kept here).</summary>
    public PendingAuthorizations Pending { get; }

    /// <summary>The grants this server issues (refresh-token families), and their revocation.</summary>
    public GrantStore Grants { get; }

    /// <summary>Issues a one-time authorization code for the approved request.</summary>
    public string IssueCode(PendingAuthorization pending, string user)
    {
        var code = TokenSecrets.NewToken("archestra_ac_");
        _repository.AddCode(new NewCode(TokenSecrets.Hash(code), pending.ClientId, pending.RedirectUri, pending.CodeChallenge, user, pending.Resource,
            pending.Scope, _time.GetUtcNow() + s_codeLifetime, Utilities.SecureRandom.HexString(16)));
        Log.CodeIssued(_logger, pending.ClientId, user, pending.Profile);
        return code;
    }

    /// <summary>
    /// <c>grant_type=authorization_code</c>. A code works once: a second use revokes every token issued from it.
    /// <paramref name="userAllowed"/> re-checks that the user may still use the profile.
    /// </summary>
    public (IssuedTokens? Tokens, string? Error, string? Description) RedeemCode(string issuer, string code, string clientId, string redirectUri, string verifier, Func<string, string, bool> userAllowed)
    {
        var hash = TokenSecrets.Hash(code);
        var now = _time.GetUtcNow();
        using var transaction = _repository.Begin();
        if (transaction.FindCode(hash) is not { } stored)
        {
            return (null, "invalid_grant", "unknown authorization code");
        }

        if (stored.Used)
        {
            // A replayed code: whoever holds it, the tokens issued from it are no longer trusted.
            Grants.RevokeFamily(transaction, stored.Grant, now);
            transaction.Commit();
            Grants.Revoked();
            Log.Reuse(_logger, "authorization code", stored.ClientId, stored.User);
            return (null, "invalid_grant", "the authorization code was already used");
        }

        if (stored.ExpiresAt < now)
        {
            return (null, "invalid_grant", "the authorization code has expired");
        }

        if (stored.ClientId != clientId || stored.RedirectUri != redirectUri)
        {
            return (null, "invalid_grant", "the code was issued to another client or redirect_uri");
        }

        if (!VerifierMatches(verifier, stored.Challenge))
        {
            return (null, "invalid_grant", "code_verifier does not match the code_challenge");
        }

        if (!userAllowed(stored.User, stored.Resource))
        {
            return (null, "invalid_grant", "the user may no longer use this resource");
        }

        transaction.MarkCodeUsed(hash, now);
        var tokens = Issue(transaction, issuer, clientId, stored.User, stored.Resource, stored.Scope, stored.Grant, now);
        transaction.Commit();
        Log.TokenIssued(_logger, clientId, stored.User, "authorization_code");
        return (tokens, null, null);
    }

    /// <summary><c>grant_type=refresh_token</c>: rotates the token; presenting a used one revokes its whole family.</summary>
    public (IssuedTokens? Tokens, string? Error, string? Description) Refresh(string issuer, string refreshToken, string clientId, Func<string, string, bool> userAllowed)
    {
        var hash = TokenSecrets.Hash(refreshToken);
        var now = _time.GetUtcNow();
        using var transaction = _repository.Begin();
        if (transaction.FindRefreshToken(hash) is not { } stored)
        {
            return (null, "invalid_grant", "unknown refresh token");
        }

        if (stored.Used || stored.Revoked)
        {
            // Reuse of a rotated token means it leaked: the legitimate holder and the thief both lose the family.
            Grants.RevokeFamily(transaction, stored.Grant, now);
            transaction.Commit();
            Grants.Revoked();
            Log.Reuse(_logger, "refresh token", stored.ClientId, stored.User);
            return (null, "invalid_grant", "the refresh token was already used; every token of this grant is revoked");
        }

        if (stored.ExpiresAt < now || stored.ClientId != clientId)
        {
            return (null, "invalid_grant", stored.ExpiresAt < now ? "the refresh token has expired" : "the refresh token was issued to another client");
        }

        if (!userAllowed(stored.User, stored.Resource))
        {
            Grants.RevokeFamily(transaction, stored.Grant, now);
            transaction.Commit();
            Grants.Revoked();
            return (null, "invalid_grant", "the user may no longer use this resource");
        }

        transaction.MarkRefreshTokenUsed(hash, now);
        var tokens = Issue(transaction, issuer, clientId, stored.User, stored.Resource, stored.Scope, stored.Grant, now);
        transaction.Commit();
        Log.TokenIssued(_logger, clientId, stored.User, "refresh_token");
        return (tokens, null, null);
    }

    private IssuedTokens Issue(IGrantTransaction transaction, string issuer, string clientId, string user, string resource, string? scope, string family, DateTimeOffset at)
    {
        var now = at.ToUnixTimeSeconds();
        var lifetime = (long)_settings.AccessTokenTtl.TotalSeconds;
        var grantedScope = scope ?? "mcp";
        var access = JsonWebToken.Sign(_keys.Active, writer =>
        {
            writer.WriteString("iss", issuer);
            writer.WriteString("sub", user);
            writer.WriteString("aud", resource);
            writer.WriteString("client_id", clientId);
            writer.WriteString("scope", grantedScope);
            writer.WriteNumber("iat", now);
            writer.WriteNumber("nbf", now);
            writer.WriteNumber("exp", now + lifetime);
            writer.WriteString("jti", Utilities.SecureRandom.HexString(16));
            writer.WriteString("sid", family); // the grant: revoking it stops this token too
        });

        var refresh = TokenSecrets.NewToken(TokenSecrets.RefreshPrefix);
        transaction.AddRefreshToken(new NewRefreshToken(TokenSecrets.Hash(refresh), family, clientId, user, resource, scope, at + _settings.RefreshTokenTtl));
        return new IssuedTokens(access, (int)lifetime, refresh, grantedScope);
    }

    /// <summary>PKCE S256: <c>BASE64URL(SHA256(verifier)) == challenge</c>, compared in constant time.</summary>
    internal static bool VerifierMatches(string verifier, string challenge)
    {
        if (verifier.Length is < 43 or > 128)
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(verifier), digest);
        return FixedEquals(Base64Url.EncodeToString(digest), challenge);
    }

    private static bool FixedEquals(string a, string b)
        => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.OAuthCodeIssued, LogLevel.Information, "Authorization code issued to client {ClientId} for {User} on profile '{Profile}'")]
        public static partial void CodeIssued(ILogger logger, string clientId, string user, string profile);

        [LoggerMessage(Observability.EventIds.OAuthTokenIssued, LogLevel.Information, "Tokens issued to client {ClientId} for {User} ({Grant})")]
        public static partial void TokenIssued(ILogger logger, string clientId, string user, string grant);

        [LoggerMessage(Observability.EventIds.OAuthRefreshReuse, LogLevel.Warning, "A used {What} was presented again by client {ClientId} for {User}: every token of that grant is revoked")]
        public static partial void Reuse(ILogger logger, string what, string clientId, string user);
    }
}
