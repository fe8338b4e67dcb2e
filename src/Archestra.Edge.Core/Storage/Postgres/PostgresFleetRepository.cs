using Archestra.Edge.Fleet;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>The fleet's secret (<c>fleet_secret</c>, one row) and its members' heartbeats (<c>fleet_members</c>).</summary>
internal sealed class PostgresFleetRepository(PostgresDatabase database) : IFleetRepository
{
    public byte[] Secret()
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT secret FROM fleet_secret WHERE id = 1");
        return (byte[])command.ExecuteScalar()!;
    }

    public void Beat(FleetMember self, DateTimeOffset forgetBefore)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, """
            INSERT INTO fleet_members (instance, url, version, fingerprint, started_at, seen_at) VALUES (@instance, @url, @version, @fingerprint, @started, @seen)
                ON CONFLICT (instance) DO UPDATE SET url = excluded.url, version = excluded.version, fingerprint = excluded.fingerprint, seen_at = excluded.seen_at;
            DELETE FROM fleet_members WHERE seen_at < @forget;
            """);
        command.Parameters.AddWithValue("instance", self.Instance);
        command.Parameters.AddWithValue("url", self.Url.ToString());
        command.Parameters.AddWithValue("version", self.Version);
        command.Parameters.AddWithValue("fingerprint", self.Fingerprint);
        command.Parameters.AddWithValue("started", self.StartedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("seen", self.SeenAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("forget", forgetBefore.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<FleetMember> Members(DateTimeOffset seenSince)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT instance, url, version, fingerprint, started_at, seen_at FROM fleet_members WHERE seen_at >= @since ORDER BY started_at, instance");
        command.Parameters.AddWithValue("since", seenSince.ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        var members = new List<FleetMember>();
        while (reader.Read())
        {
            if (Uri.TryCreate(reader.GetString(1), UriKind.Absolute, out var url))
            {
                members.Add(new FleetMember(reader.GetString(0), url, reader.GetString(2), reader.GetString(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
            }
        }

        return members;
    }

    public void Leave(string instance)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "DELETE FROM fleet_members WHERE instance = @instance");
        command.Parameters.AddWithValue("instance", instance);
        command.ExecuteNonQuery();
    }
}
