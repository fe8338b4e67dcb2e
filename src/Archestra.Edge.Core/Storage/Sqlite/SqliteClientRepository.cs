using Archestra.Edge.Identity.OAuth;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>Registered OAuth clients in the <c>oauth_clients</c> table (redirect URIs one per line).</summary>
internal sealed class SqliteClientRepository(StateDatabase database) : IClientRepository
{
    public int Count()
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM oauth_clients";
        return (int)(long)command.ExecuteScalar()!;
    }

    public void Add(OAuthClient client, DateTimeOffset at)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO oauth_clients (client_id, name, redirect_uris, kind, created_at) VALUES ($id, $name, $uris, $kind, $now)";
        command.Parameters.AddWithValue("$id", client.ClientId);
        command.Parameters.AddWithValue("$name", (object?)client.Name ?? DBNull.Value);
        command.Parameters.AddWithValue("$uris", string.Join('\n', client.RedirectUris));
        command.Parameters.AddWithValue("$kind", client.Kind);
        command.Parameters.AddWithValue("$now", at.ToUnixTimeSeconds());
        command.ExecuteNonQuery();
    }

    public OAuthClient? Find(string clientId)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, redirect_uris, kind FROM oauth_clients WHERE client_id = $id";
        command.Parameters.AddWithValue("$id", clientId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? StateRows.Client(clientId, reader) : null;
    }

    public void Touch(string clientId, DateTimeOffset at)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE oauth_clients SET last_used_at = $now WHERE client_id = $id";
        command.Parameters.AddWithValue("$now", at.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$id", clientId);
        command.ExecuteNonQuery();
    }

    public int Prune(DateTimeOffset unusedBefore, DateTimeOffset idleBefore)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM oauth_clients WHERE kind = 'registered' AND (
                (last_used_at IS NULL AND created_at < $unused) OR (last_used_at IS NOT NULL AND last_used_at < $idle))
            """;
        command.Parameters.AddWithValue("$unused", unusedBefore.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$idle", idleBefore.ToUnixTimeSeconds());
        return command.ExecuteNonQuery();
    }
}
