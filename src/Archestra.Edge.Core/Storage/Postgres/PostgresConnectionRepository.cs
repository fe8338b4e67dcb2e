using Archestra.Edge.Upstreams.OAuth;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>Upstream OAuth connections, shared by a fleet: every instance calls with the same connection and sees its refreshes.</summary>
internal sealed class PostgresConnectionRepository(PostgresDatabase database) : IConnectionRepository
{
    public StoredConnection? Get(string server, string owner)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT server, owner, payload, updated_at FROM upstream_connections WHERE server = @server AND owner = @owner");
        command.Parameters.AddWithValue("server", server);
        command.Parameters.AddWithValue("owner", owner);
        using var reader = command.ExecuteReader();
        return StateRows.Connections(reader).FirstOrDefault();
    }

    public IReadOnlyList<StoredConnection> List()
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT server, owner, payload, updated_at FROM upstream_connections ORDER BY server, owner");
        using var reader = command.ExecuteReader();
        return StateRows.Connections(reader);
    }

    public IReadOnlyList<(string Server, string Owner)> Owners()
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT server, owner FROM upstream_connections");
        using var reader = command.ExecuteReader();
        var owners = new List<(string, string)>();
        while (reader.Read())
        {
            owners.Add((reader.GetString(0), reader.GetString(1)));
        }

        return owners;
    }

    public void Put(string server, string owner, byte[] sealedConnection, DateTimeOffset at)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, """
            INSERT INTO upstream_connections (server, owner, payload, updated_at) VALUES (@server, @owner, @payload, @at)
            ON CONFLICT (server, owner) DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at
            """);
        command.Parameters.AddWithValue("server", server);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("payload", sealedConnection);
        command.Parameters.AddWithValue("at", at.ToUnixTimeSeconds());
        command.ExecuteNonQuery();
    }

    public bool Delete(string server, string owner)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "DELETE FROM upstream_connections WHERE server = @server AND owner = @owner");
        command.Parameters.AddWithValue("server", server);
        command.Parameters.AddWithValue("owner", owner);
        return command.ExecuteNonQuery() > 0;
    }
}
