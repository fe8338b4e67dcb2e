using Archestra.Edge.Identity;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>Tokens and revoked grants in PostgreSQL; changes seen through <c>state_version</c> and, at once, its notifications.</summary>
internal sealed class PostgresTokenRepository(PostgresDatabase database, ILogger logger) : ITokenRepository
{
    public void Add(TokenRecord token)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "INSERT INTO tokens (id, name, hash, scope, profiles, created_at, expires_at) VALUES (@id, @name, @hash, @scope, @profiles, @created, @expires)");
        command.Parameters.AddWithValue("id", token.Id);
        command.Parameters.AddWithValue("name", token.Name);
        command.Parameters.AddWithValue("hash", token.Hash);
        command.Parameters.AddWithValue("scope", token.Scope.ToString());
        command.Parameters.AddWithValue("profiles", token.Profiles.IsDefaultOrEmpty ? DBNull.Value : string.Join(',', token.Profiles));
        command.Parameters.AddWithValue("created", token.CreatedAt.ToUnixTimeSeconds());
        command.Parameters.Add(PostgresValues.Seconds("expires", token.ExpiresAt));
        command.ExecuteNonQuery();
    }

    public bool Revoke(string idOrName, DateTimeOffset at)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, """
            UPDATE tokens SET revoked_at = @now
            WHERE revoked_at IS NULL AND (id = @key OR (name = @key AND (SELECT count(*) FROM tokens WHERE name = @key AND revoked_at IS NULL) = 1))
            """);
        command.Parameters.AddWithValue("now", at.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("key", idOrName);
        return command.ExecuteNonQuery() > 0;
    }

    public IReadOnlyList<TokenRecord> LoadAll()
    {
        var result = new List<TokenRecord>();
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT id, name, hash, scope, profiles, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at, id");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (StateRows.Token(reader) is { } token)
            {
                result.Add(token);
            }
        }

        return result;
    }

    public IReadOnlyList<string> RevokedGrants(DateTimeOffset now)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT family FROM oauth_revoked_grants WHERE expires_at > @now");
        command.Parameters.AddWithValue("now", now.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.Strings(reader);
    }

    /// <summary>The <c>state_version</c> counter the triggers bump on every change (a one-row read, once a second).</summary>
    public long ChangeVersion()
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT version FROM state_version WHERE id = 1");
        return (long)command.ExecuteScalar()!;
    }

    public IDisposable? WatchChanges(Action changed) => new PostgresChangeListener(database, changed, logger);

    public void Dispose()
    {
    }
}
