using Archestra.Edge.Identity;
using Microsoft.Data.Sqlite;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>Tokens in the <c>tokens</c> table, revoked grants in <c>oauth_revoked_grants</c>; changes seen through <c>data_version</c>.</summary>
internal sealed class SqliteTokenRepository(StateDatabase database) : ITokenRepository
{
    private readonly Lock _watchLock = new();
    private SqliteConnection? _watch;

    public void Add(TokenRecord token)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO tokens (id, name, hash, scope, profiles, created_at, expires_at) VALUES ($id, $name, $hash, $scope, $profiles, $created, $expires)";
        command.Parameters.AddWithValue("$id", token.Id);
        command.Parameters.AddWithValue("$name", token.Name);
        command.Parameters.AddWithValue("$hash", token.Hash);
        command.Parameters.AddWithValue("$scope", token.Scope.ToString());
        command.Parameters.AddWithValue("$profiles", token.Profiles.IsDefaultOrEmpty ? DBNull.Value : string.Join(',', token.Profiles));
        command.Parameters.AddWithValue("$created", token.CreatedAt.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$expires", token.ExpiresAt is { } e ? e.ToUnixTimeSeconds() : DBNull.Value);
        command.ExecuteNonQuery();
    }

    public bool Revoke(string idOrName, DateTimeOffset at)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE tokens SET revoked_at = $now
            WHERE revoked_at IS NULL AND (id = $key OR (name = $key AND (SELECT count(*) FROM tokens WHERE name = $key AND revoked_at IS NULL) = 1))
            """;
        command.Parameters.AddWithValue("$now", at.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$key", idOrName);
        return command.ExecuteNonQuery() > 0;
    }

    public IReadOnlyList<TokenRecord> LoadAll()
    {
        var result = new List<TokenRecord>();
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, hash, scope, profiles, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at, id";
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
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT family FROM oauth_revoked_grants WHERE expires_at > $now";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.Strings(reader);
    }

    /// <summary><c>PRAGMA data_version</c> of one long-lived connection: it changes when another connection commits.</summary>
    public long ChangeVersion()
    {
        lock (_watchLock)
        {
            _watch ??= database.Connect();
            return StateDatabase.DataVersion(_watch);
        }
    }

    /// <summary>SQLite cannot call back: other processes' commits are seen by the poll of <see cref="ChangeVersion"/>.</summary>
    public IDisposable? WatchChanges(Action changed) => null;

    public void Dispose()
    {
        lock (_watchLock)
        {
            _watch?.Dispose();
            _watch = null;
        }
    }
}
