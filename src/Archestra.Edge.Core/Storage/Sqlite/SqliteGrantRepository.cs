using Archestra.Edge.Identity.OAuth;
using Microsoft.Data.Sqlite;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>
/// Codes in <c>oauth_codes</c>, refresh tokens in <c>oauth_refresh_tokens</c> (a grant is their <c>family</c>), revoked
/// grants in <c>oauth_revoked_grants</c>; a unit of work is one SQLite transaction.
/// </summary>
internal sealed class SqliteGrantRepository(StateDatabase database) : IGrantRepository
{
    public void AddCode(NewCode code)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO oauth_codes (hash, client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, family)
            VALUES ($hash, $client, $redirect, $challenge, $user, $resource, $scope, $expires, $family)
            """;
        command.Parameters.AddWithValue("$hash", code.Hash);
        command.Parameters.AddWithValue("$client", code.ClientId);
        command.Parameters.AddWithValue("$redirect", code.RedirectUri);
        command.Parameters.AddWithValue("$challenge", code.Challenge);
        command.Parameters.AddWithValue("$user", code.User);
        command.Parameters.AddWithValue("$resource", code.Resource);
        command.Parameters.AddWithValue("$scope", (object?)code.Scope ?? DBNull.Value);
        command.Parameters.AddWithValue("$expires", code.ExpiresAt.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$family", code.Grant);
        command.ExecuteNonQuery();
    }

    public List<GrantInfo> List(string? user, DateTimeOffset now)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT family, client_id, user_id, resource, max(expires_at), max(revoked_at) FROM oauth_refresh_tokens
            WHERE ($user IS NULL OR user_id = $user)
            GROUP BY family HAVING max(expires_at) > $now
            ORDER BY max(expires_at) DESC, family
            """;
        command.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.Grants(reader);
    }

    public IGrantTransaction Begin() => new Transaction(database.Connect());

    private sealed class Transaction : IGrantTransaction
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;

        public Transaction(SqliteConnection connection)
        {
            _connection = connection;
            _transaction = connection.BeginTransaction();
        }

        public StoredCode? FindCode(byte[] hash)
        {
            using var select = Command("SELECT client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, used_at, family FROM oauth_codes WHERE hash = $hash");
            select.Parameters.AddWithValue("$hash", hash);
            using var reader = select.ExecuteReader();
            return reader.Read() ? StateRows.Code(reader) : null;
        }

        public StoredRefreshToken? FindRefreshToken(byte[] hash)
        {
            using var select = Command("SELECT family, client_id, user_id, resource, scope, expires_at, used_at, revoked_at FROM oauth_refresh_tokens WHERE hash = $hash");
            select.Parameters.AddWithValue("$hash", hash);
            using var reader = select.ExecuteReader();
            return reader.Read() ? StateRows.RefreshToken(reader) : null;
        }

        public void MarkCodeUsed(byte[] hash, DateTimeOffset at) => MarkUsed("UPDATE oauth_codes SET used_at = $now WHERE hash = $hash", hash, at);

        public void MarkRefreshTokenUsed(byte[] hash, DateTimeOffset at) => MarkUsed("UPDATE oauth_refresh_tokens SET used_at = $now WHERE hash = $hash", hash, at);

        public void AddRefreshToken(NewRefreshToken token)
        {
            using var insert = Command("""
                INSERT INTO oauth_refresh_tokens (hash, family, client_id, user_id, resource, scope, expires_at)
                VALUES ($hash, $family, $client, $user, $resource, $scope, $expires)
                """);
            insert.Parameters.AddWithValue("$hash", token.Hash);
            insert.Parameters.AddWithValue("$family", token.Grant);
            insert.Parameters.AddWithValue("$client", token.ClientId);
            insert.Parameters.AddWithValue("$user", token.User);
            insert.Parameters.AddWithValue("$resource", token.Resource);
            insert.Parameters.AddWithValue("$scope", (object?)token.Scope ?? DBNull.Value);
            insert.Parameters.AddWithValue("$expires", token.ExpiresAt.ToUnixTimeSeconds());
            insert.ExecuteNonQuery();
        }

        public IReadOnlyList<string> ActiveGrants(string? grant, string? user, DateTimeOffset now)
        {
            using var select = Command("""
                SELECT DISTINCT family FROM oauth_refresh_tokens
                WHERE revoked_at IS NULL AND expires_at > $now AND (family = $grant OR user_id = $user)
                """);
            select.Parameters.AddWithValue("$now", now.ToUnixTimeSeconds());
            select.Parameters.AddWithValue("$grant", (object?)grant ?? DBNull.Value);
            select.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
            using var reader = select.ExecuteReader();
            return StateRows.Strings(reader);
        }

        public string? GrantOfClient(string clientId, byte[]? refreshTokenHash, string? grant)
        {
            using var select = Command(refreshTokenHash is not null
                ? "SELECT family FROM oauth_refresh_tokens WHERE hash = $hash AND client_id = $client"
                : "SELECT family FROM oauth_refresh_tokens WHERE family = $family AND client_id = $client LIMIT 1");
            select.Parameters.AddWithValue("$hash", (object?)refreshTokenHash ?? DBNull.Value);
            select.Parameters.AddWithValue("$family", (object?)grant ?? DBNull.Value);
            select.Parameters.AddWithValue("$client", clientId);
            return select.ExecuteScalar() as string;
        }

        public void RevokeGrant(string grant, DateTimeOffset at, DateTimeOffset revokedUntil)
        {
            using var revoke = Command("""
                UPDATE oauth_refresh_tokens SET revoked_at = $now WHERE family = $family AND revoked_at IS NULL;
                INSERT INTO oauth_revoked_grants (family, revoked_at, expires_at) VALUES ($family, $now, $until)
                    ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at);
                DELETE FROM oauth_revoked_grants WHERE expires_at <= $now;
                """);
            revoke.Parameters.AddWithValue("$now", at.ToUnixTimeSeconds());
            revoke.Parameters.AddWithValue("$until", revokedUntil.ToUnixTimeSeconds());
            revoke.Parameters.AddWithValue("$family", grant);
            revoke.ExecuteNonQuery();
        }

        public void Commit() => _transaction.Commit();

        public void Dispose()
        {
            _transaction.Dispose();
            _connection.Dispose();
        }

        private void MarkUsed(string update, byte[] hash, DateTimeOffset at)
        {
            using var mark = Command(update);
            mark.Parameters.AddWithValue("$now", at.ToUnixTimeSeconds());
            mark.Parameters.AddWithValue("$hash", hash);
            mark.ExecuteNonQuery();
        }

        private SqliteCommand Command(string text)
        {
            var command = _connection.CreateCommand();
            command.Transaction = _transaction;
            command.CommandText = text;
            return command;
        }
    }
}
