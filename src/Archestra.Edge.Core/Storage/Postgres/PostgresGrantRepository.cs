using Archestra.Edge.Identity.OAuth;
using Npgsql;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>
/// Codes, refresh-token families (grants) and revoked grants in the shared tables. A unit of work is one transaction
/// whose reads lock the rows they find (<c>FOR UPDATE</c>): two instances redeeming the same code or rotating the same
/// refresh token at once are serialized, and the second sees it used — the same once-only guarantee as one process.
/// </summary>
internal sealed class PostgresGrantRepository(PostgresDatabase database) : IGrantRepository
{
    public void AddCode(NewCode code)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, """
            INSERT INTO oauth_codes (hash, client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, family)
            VALUES (@hash, @client, @redirect, @challenge, @user, @resource, @scope, @expires, @family)
            """);
        command.Parameters.AddWithValue("hash", code.Hash);
        command.Parameters.AddWithValue("client", code.ClientId);
        command.Parameters.AddWithValue("redirect", code.RedirectUri);
        command.Parameters.AddWithValue("challenge", code.Challenge);
        command.Parameters.AddWithValue("user", code.User);
        command.Parameters.AddWithValue("resource", code.Resource);
        command.Parameters.Add(PostgresValues.Text("scope", code.Scope));
        command.Parameters.AddWithValue("expires", code.ExpiresAt.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("family", code.Grant);
        command.ExecuteNonQuery();
    }

    public List<GrantInfo> List(string? user, DateTimeOffset now)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, """
            SELECT family, min(client_id), min(user_id), min(resource), max(expires_at), max(revoked_at) FROM oauth_refresh_tokens
            WHERE (@user::text IS NULL OR user_id = @user::text)
            GROUP BY family HAVING max(expires_at) > @now
            ORDER BY max(expires_at) DESC, family
            """);
        command.Parameters.Add(PostgresValues.Text("user", user));
        command.Parameters.AddWithValue("now", now.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.Grants(reader);
    }

    public IGrantTransaction Begin() => new Transaction(database, database.Connect());

    private sealed class Transaction : IGrantTransaction
    {
        private readonly PostgresDatabase _database;
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;

        public Transaction(PostgresDatabase database, NpgsqlConnection connection)
        {
            _database = database;
            _connection = connection;
            _transaction = connection.BeginTransaction();
        }

        public StoredCode? FindCode(byte[] hash)
        {
            using var select = Command("SELECT client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, used_at, family FROM oauth_codes WHERE hash = @hash FOR UPDATE");
            select.Parameters.AddWithValue("hash", hash);
            using var reader = select.ExecuteReader();
            return reader.Read() ? StateRows.Code(reader) : null;
        }

        public StoredRefreshToken? FindRefreshToken(byte[] hash)
        {
            using var select = Command("SELECT family, client_id, user_id, resource, scope, expires_at, used_at, revoked_at FROM oauth_refresh_tokens WHERE hash = @hash FOR UPDATE");
            select.Parameters.AddWithValue("hash", hash);
            using var reader = select.ExecuteReader();
            return reader.Read() ? StateRows.RefreshToken(reader) : null;
        }

        public void MarkCodeUsed(byte[] hash, DateTimeOffset at) => MarkUsed("UPDATE oauth_codes SET used_at = @now WHERE hash = @hash", hash, at);

        public void MarkRefreshTokenUsed(byte[] hash, DateTimeOffset at) => MarkUsed("UPDATE oauth_refresh_tokens SET used_at = @now WHERE hash = @hash", hash, at);

        public void AddRefreshToken(NewRefreshToken token)
        {
            using var insert = Command("""
                INSERT INTO oauth_refresh_tokens (hash, family, client_id, user_id, resource, scope, expires_at)
                VALUES (@hash, @family, @client, @user, @resource, @scope, @expires)
                """);
            insert.Parameters.AddWithValue("hash", token.Hash);
            insert.Parameters.AddWithValue("family", token.Grant);
            insert.Parameters.AddWithValue("client", token.ClientId);
            insert.Parameters.AddWithValue("user", token.User);
            insert.Parameters.AddWithValue("resource", token.Resource);
            insert.Parameters.Add(PostgresValues.Text("scope", token.Scope));
            insert.Parameters.AddWithValue("expires", token.ExpiresAt.ToUnixTimeSeconds());
            insert.ExecuteNonQuery();
        }

        public IReadOnlyList<string> ActiveGrants(string? grant, string? user, DateTimeOffset now)
        {
            using var select = Command("""
                SELECT DISTINCT family FROM oauth_refresh_tokens
                WHERE revoked_at IS NULL AND expires_at > @now AND (family = @grant::text OR user_id = @user::text)
                """);
            select.Parameters.AddWithValue("now", now.ToUnixTimeSeconds());
            select.Parameters.Add(PostgresValues.Text("grant", grant));
            select.Parameters.Add(PostgresValues.Text("user", user));
            using var reader = select.ExecuteReader();
            return StateRows.Strings(reader);
        }

        public string? GrantOfClient(string clientId, byte[]? refreshTokenHash, string? grant)
        {
            using var select = Command(refreshTokenHash is not null
                ? "SELECT family FROM oauth_refresh_tokens WHERE hash = @hash AND client_id = @client"
                : "SELECT family FROM oauth_refresh_tokens WHERE family = @family AND client_id = @client LIMIT 1");
            if (refreshTokenHash is not null)
            {
                select.Parameters.AddWithValue("hash", refreshTokenHash);
            }
            else
            {
                select.Parameters.Add(PostgresValues.Text("family", grant));
            }

            select.Parameters.AddWithValue("client", clientId);
            return select.ExecuteScalar() as string;
        }

        public void RevokeGrant(string grant, DateTimeOffset at, DateTimeOffset revokedUntil)
        {
            using var revoke = Command("""
                UPDATE oauth_refresh_tokens SET revoked_at = @now WHERE family = @family AND revoked_at IS NULL;
                INSERT INTO oauth_revoked_grants (family, revoked_at, expires_at) VALUES (@family, @now, @until)
                    ON CONFLICT (family) DO UPDATE SET expires_at = greatest(oauth_revoked_grants.expires_at, excluded.expires_at);
                DELETE FROM oauth_revoked_grants WHERE expires_at <= @now;
                """);
            revoke.Parameters.AddWithValue("now", at.ToUnixTimeSeconds());
            revoke.Parameters.AddWithValue("until", revokedUntil.ToUnixTimeSeconds());
            revoke.Parameters.AddWithValue("family", grant);
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
            mark.Parameters.AddWithValue("now", at.ToUnixTimeSeconds());
            mark.Parameters.AddWithValue("hash", hash);
            mark.ExecuteNonQuery();
        }

        private NpgsqlCommand Command(string text) => PostgresDatabase.Command(_connection, text, _transaction);
    }
}
