using Archestra.Edge.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>One authorization a user gave a client for a profile: the refresh-token family and its access tokens.</summary>
internal sealed record GrantInfo(string Id, string ClientId, string User, string Resource, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>
/// The built-in authorization server's grants (refresh-token families), listed and revoked by an operator (the
/// <c>grants</c> command, the admin API), by a client (RFC 7009), or on reuse of a code or refresh token. Revoking
/// a grant revokes its refresh tokens and records it in <c>oauth_revoked_grants</c> until the last access token it
/// may have issued has expired; the token store reads that table, so those access tokens are refused too.
/// </summary>
internal sealed partial class GrantStore
{
    private readonly StateDatabase _database;
    private readonly TimeSpan _accessTokenTtl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action? _revoked;

    /// <param name="revoked">Called after grants were revoked (the token store re-reads the revoked grants at once).</param>
    public GrantStore(StateDatabase database, TimeSpan accessTokenTtl, TimeProvider time, ILogger logger, Action? revoked = null)
    {
        _database = database;
        _accessTokenTtl = accessTokenTtl;
        _time = time;
        _logger = logger;
        _revoked = revoked;
    }

    /// <summary>The grants whose refresh tokens have not expired, newest first; revoked ones included (marked).</summary>
    public List<GrantInfo> ListGrants(string? user = null)
    {
        using var connection = _database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT family, client_id, user_id, resource, max(expires_at), max(revoked_at) FROM oauth_refresh_tokens
            WHERE ($user IS NULL OR user_id = $user)
            GROUP BY family HAVING max(expires_at) > $now
            ORDER BY max(expires_at) DESC, family
            """;
        command.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", StateDatabase.Now(_time));
        using var reader = command.ExecuteReader();
        var grants = new List<GrantInfo>();
        while (reader.Read())
        {
            grants.Add(new GrantInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)), reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(5))));
        }

        return grants;
    }

    /// <summary>Revokes the grant <paramref name="grant"/>, or every grant of <paramref name="user"/>. Returns how many were active.</summary>
    public int RevokeGrants(string? grant, string? user)
    {
        var now = StateDatabase.Now(_time);
        using var connection = _database.Connect();
        using var transaction = connection.BeginTransaction();
        var families = new List<string>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = """
                SELECT DISTINCT family FROM oauth_refresh_tokens
                WHERE revoked_at IS NULL AND expires_at > $now AND (family = $grant OR user_id = $user)
                """;
            select.Parameters.AddWithValue("$now", now);
            select.Parameters.AddWithValue("$grant", (object?)grant ?? DBNull.Value);
            select.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                families.Add(reader.GetString(0));
            }
        }

        foreach (var family in families)
        {
            RevokeFamily(connection, transaction, family, now);
        }

        transaction.Commit();
        if (families.Count > 0)
        {
            Revoked();
            Log.GrantsRevoked(_logger, families.Count, grant ?? $"user {user}");
        }

        return families.Count;
    }

    /// <summary>
    /// RFC 7009: a client revokes one of its refresh tokens, or (given the grant an access token it presented names)
    /// one of its access tokens; either way the whole grant goes. A token that is unknown, expired or another
    /// client's changes nothing, and the caller answers 200 all the same, as the RFC asks.
    /// </summary>
    public void RevokeByClient(string clientId, string? refreshToken, string? accessTokenGrant)
    {
        using var connection = _database.Connect();
        using var transaction = connection.BeginTransaction();
        string? family = null;
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = refreshToken is not null
                ? "SELECT family FROM oauth_refresh_tokens WHERE hash = $hash AND client_id = $client"
                : "SELECT family FROM oauth_refresh_tokens WHERE family = $family AND client_id = $client LIMIT 1";
            select.Parameters.AddWithValue("$hash", refreshToken is null ? DBNull.Value : TokenSecrets.Hash(refreshToken));
            select.Parameters.AddWithValue("$family", (object?)accessTokenGrant ?? DBNull.Value);
            select.Parameters.AddWithValue("$client", clientId);
            family = select.ExecuteScalar() as string;
        }

        if (family is null)
        {
            return;
        }

        RevokeFamily(connection, transaction, family, StateDatabase.Now(_time));
        transaction.Commit();
        Revoked();
        Log.GrantsRevoked(_logger, 1, $"client {clientId}");
    }

    /// <summary>Revokes a grant inside the caller's transaction; the caller commits, then calls <see cref="Revoked"/>.</summary>
    public void RevokeFamily(SqliteConnection connection, SqliteTransaction transaction, string family, long now)
    {
        using var revoke = connection.CreateCommand();
        revoke.Transaction = transaction;
        revoke.CommandText = """
            UPDATE oauth_refresh_tokens SET revoked_at = $now WHERE family = $family AND revoked_at IS NULL;
            INSERT INTO oauth_revoked_grants (family, revoked_at, expires_at) VALUES ($family, $now, $until)
                ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at);
            DELETE FROM oauth_revoked_grants WHERE expires_at <= $now;
            """;
        revoke.Parameters.AddWithValue("$now", now);
        revoke.Parameters.AddWithValue("$until", now + (long)(_accessTokenTtl + Jwt.JsonWebToken.ClockSkew).TotalSeconds + 1);
        revoke.Parameters.AddWithValue("$family", family);
        revoke.ExecuteNonQuery();
    }

    /// <summary>After a commit that revoked grants: the token store re-reads them, so their access tokens stop at once.</summary>
    public void Revoked() => _revoked?.Invoke();

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.OAuthGrantsRevoked, LogLevel.Information, "Revoked {Count} OAuth grant(s): {Which}")]
        public static partial void GrantsRevoked(ILogger logger, int count, string which);
    }
}
