using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Archestra.Edge.Storage;
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

    private readonly StateDatabase _database;
    private readonly SigningKeys _keys;
    private readonly BuiltinAuthorizationServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public AuthorizationServer(StateDatabase database, SigningKeys keys, BuiltinAuthorizationServerSettings settings, TimeProvider time, ILogger logger, GrantStore grants)
    {
        Grants = grants;
        _database = database;
        _keys = keys;
        _settings = settings;
        _time = time;
        _logger = logger;
        Pending = new PendingAuthorizations(time);
    }

    /// <summary>Authorization requests waiting at the consent page (sealed into the page, not kept here).</summary>
    public PendingAuthorizations Pending { get; }

    /// <summary>The grants this server issues (refresh-token families), and their revocation.</summary>
    public GrantStore Grants { get; }

    /// <summary>Issues a one-time authorization code for the approved request.</summary>
    public string IssueCode(PendingAuthorization pending, string user)
    {
        var code = TokenSecrets.NewToken("archestra_ac_");
        using var connection = _database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO oauth_codes (hash, client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, family)
            VALUES ($hash, $client, $redirect, $challenge, $user, $resource, $scope, $expires, $family)
            """;
        command.Parameters.AddWithValue("$hash", TokenSecrets.Hash(code));
        command.Parameters.AddWithValue("$client", pending.ClientId);
        command.Parameters.AddWithValue("$redirect", pending.RedirectUri);
        command.Parameters.AddWithValue("$challenge", pending.CodeChallenge);
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$resource", pending.Resource);
        command.Parameters.AddWithValue("$scope", (object?)pending.Scope ?? DBNull.Value);
        command.Parameters.AddWithValue("$expires", (_time.GetUtcNow() + s_codeLifetime).ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$family", Utilities.SecureRandom.HexString(16));
        command.ExecuteNonQuery();
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
        var now = StateDatabase.Now(_time);
        using var connection = _database.Connect();
        using var transaction = connection.BeginTransaction();
        string client, redirect, challenge, user, resource, family;
        string? scope;
        long expires;
        long? used;
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, used_at, family FROM oauth_codes WHERE hash = $hash";
            select.Parameters.AddWithValue("$hash", hash);
            using var reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return (null, "invalid_grant", "unknown authorization code");
            }

            (client, redirect, challenge, user, resource) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4));
            scope = reader.IsDBNull(5) ? null : reader.GetString(5);
            expires = reader.GetInt64(6);
            used = reader.IsDBNull(7) ? null : reader.GetInt64(7);
            family = reader.GetString(8);
        }

        if (used is not null)
        {
            // A replayed code: whoever holds it, the tokens issued from it are no longer trusted.
            Grants.RevokeFamily(connection, transaction, family, now);
            transaction.Commit();
            Grants.Revoked();
            Log.Reuse(_logger, "authorization code", client, user);
            return (null, "invalid_grant", "the authorization code was already used");
        }

        if (expires < now)
        {
            return (null, "invalid_grant", "the authorization code has expired");
        }

        if (client != clientId || redirect != redirectUri)
        {
            return (null, "invalid_grant", "the code was issued to another client or redirect_uri");
        }

        if (!VerifierMatches(verifier, challenge))
        {
            return (null, "invalid_grant", "code_verifier does not match the code_challenge");
        }

        if (!userAllowed(user, resource))
        {
            return (null, "invalid_grant", "the user may no longer use this resource");
        }

        MarkUsed(connection, transaction, "UPDATE oauth_codes SET used_at = $now WHERE hash = $hash", hash, now);
        var tokens = Issue(connection, transaction, issuer, clientId, user, resource, scope, family, now);
        transaction.Commit();
        Log.TokenIssued(_logger, clientId, user, "authorization_code");
        return (tokens, null, null);
    }

    /// <summary><c>grant_type=refresh_token</c>: rotates the token; presenting a used one revokes its whole family.</summary>
    public (IssuedTokens? Tokens, string? Error, string? Description) Refresh(string issuer, string refreshToken, string clientId, Func<string, string, bool> userAllowed)
    {
        var hash = TokenSecrets.Hash(refreshToken);
        var now = StateDatabase.Now(_time);
        using var connection = _database.Connect();
        using var transaction = connection.BeginTransaction();
        string family, client, user, resource;
        string? scope;
        long expires;
        long? used, revoked;
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT family, client_id, user_id, resource, scope, expires_at, used_at, revoked_at FROM oauth_refresh_tokens WHERE hash = $hash";
            select.Parameters.AddWithValue("$hash", hash);
            using var reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return (null, "invalid_grant", "unknown refresh token");
            }

            (family, client, user, resource) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
            scope = reader.IsDBNull(4) ? null : reader.GetString(4);
            expires = reader.GetInt64(5);
            used = reader.IsDBNull(6) ? null : reader.GetInt64(6);
            revoked = reader.IsDBNull(7) ? null : reader.GetInt64(7);
        }

        if (used is not null || revoked is not null)
        {
            // Reuse of a rotated token means it leaked: the legitimate holder and the thief both lose the family.
            Grants.RevokeFamily(connection, transaction, family, now);
            transaction.Commit();
            Grants.Revoked();
            Log.Reuse(_logger, "refresh token", client, user);
            return (null, "invalid_grant", "the refresh token was already used; every token of this grant is revoked");
        }

        if (expires < now || client != clientId)
        {
            return (null, "invalid_grant", expires < now ? "the refresh token has expired" : "the refresh token was issued to another client");
        }

        if (!userAllowed(user, resource))
        {
            Grants.RevokeFamily(connection, transaction, family, now);
            transaction.Commit();
            Grants.Revoked();
            return (null, "invalid_grant", "the user may no longer use this resource");
        }

        MarkUsed(connection, transaction, "UPDATE oauth_refresh_tokens SET used_at = $now WHERE hash = $hash", hash, now);
        var tokens = Issue(connection, transaction, issuer, clientId, user, resource, scope, family, now);
        transaction.Commit();
        Log.TokenIssued(_logger, clientId, user, "refresh_token");
        return (tokens, null, null);
    }

    /// <summary>Marks a code or refresh token used (a second use is then detected as a replay).</summary>
    private static void MarkUsed(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, string update, byte[] hash, long now)
    {
        using var mark = connection.CreateCommand();
        mark.Transaction = transaction;
        mark.CommandText = update;
        mark.Parameters.AddWithValue("$now", now);
        mark.Parameters.AddWithValue("$hash", hash);
        mark.ExecuteNonQuery();
    }

    private IssuedTokens Issue(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction,
        string issuer, string clientId, string user, string resource, string? scope, string family, long now)
    {
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
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO oauth_refresh_tokens (hash, family, client_id, user_id, resource, scope, expires_at)
            VALUES ($hash, $family, $client, $user, $resource, $scope, $expires)
            """;
        insert.Parameters.AddWithValue("$hash", TokenSecrets.Hash(refresh));
        insert.Parameters.AddWithValue("$family", family);
        insert.Parameters.AddWithValue("$client", clientId);
        insert.Parameters.AddWithValue("$user", user);
        insert.Parameters.AddWithValue("$resource", resource);
        insert.Parameters.AddWithValue("$scope", (object?)scope ?? DBNull.Value);
        insert.Parameters.AddWithValue("$expires", now + (long)_settings.RefreshTokenTtl.TotalSeconds);
        insert.ExecuteNonQuery();
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
