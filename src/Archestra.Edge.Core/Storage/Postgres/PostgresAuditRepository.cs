using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>
/// The audit trail of every instance in one table, each row naming the instance that wrote it. A batch is one
/// binary <c>COPY</c> (one round trip however many records), so the trail's writer never falls behind the calls.
/// </summary>
internal sealed class PostgresAuditRepository(PostgresDatabase database, string instance) : IAuditRepository
{
    public void Insert(IReadOnlyList<AuditRecord> records, AuditArguments arguments)
    {
        using var writer = OpenWriter(arguments);
        writer.Write(records);
    }

    public IAuditWriter OpenWriter(AuditArguments arguments) => new Writer(database, instance, arguments);

    public int Prune(DateTimeOffset cutoff)
    {
        using var connection = database.Connect();
        using var delete = PostgresDatabase.Command(connection, "DELETE FROM audit WHERE at < @cutoff");
        delete.Parameters.AddWithValue("cutoff", cutoff.ToUnixTimeMilliseconds());
        return delete.ExecuteNonQuery();
    }

    public List<AuditRecord> Read(DateTimeOffset? since, DateTimeOffset? until, int? last)
    {
        using var connection = database.Connect();
        const string Columns = "at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision";
        using var select = PostgresDatabase.Command(connection, last is null
            ? $"SELECT {Columns} FROM audit WHERE at >= @since AND at < @until ORDER BY id"
            : $"SELECT {Columns} FROM (SELECT {Columns}, id FROM audit WHERE at >= @since AND at < @until ORDER BY id DESC LIMIT @last) newest ORDER BY id");
        select.Parameters.AddWithValue("since", since?.ToUnixTimeMilliseconds() ?? 0);
        select.Parameters.AddWithValue("until", until?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        if (last is { } count)
        {
            select.Parameters.AddWithValue("last", (long)count);
        }

        using var reader = select.ExecuteReader();
        return StateRows.AuditRecords(reader);
    }

    private sealed class Writer(PostgresDatabase database, string instance, AuditArguments arguments) : IAuditWriter
    {
        public void Write(IReadOnlyList<AuditRecord> records)
        {
            using var connection = database.Connect();
            using var import = connection.BeginBinaryImport(
                "COPY audit (at, instance, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision) FROM STDIN (FORMAT BINARY)");
            foreach (var record in records)
            {
                import.StartRow();
                import.Write(record.At.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint);
                import.Write(instance, NpgsqlDbType.Text);
                import.Write(record.Principal, NpgsqlDbType.Text);
                import.Write(record.Profile, NpgsqlDbType.Text);
                import.Write(record.Server, NpgsqlDbType.Text);
                import.Write(record.Method, NpgsqlDbType.Text);
                import.Write(record.Item, NpgsqlDbType.Text);
                import.Write(record.Outcome, NpgsqlDbType.Text);
                import.Write(record.DurationMilliseconds, NpgsqlDbType.Double);
                import.Write(record.RequestBytes, NpgsqlDbType.Bigint);
                import.Write(record.ResponseBytes, NpgsqlDbType.Bigint);
                if (AuditRedaction.Keep(record.Arguments, arguments) is { } kept)
                {
                    import.Write(kept, NpgsqlDbType.Text);
                }
                else
                {
                    import.WriteNull();
                }

                import.Write(record.Session, NpgsqlDbType.Text);
                if (record.Decision is { } decision)
                {
                    import.Write(decision, NpgsqlDbType.Text);
                }
                else
                {
                    import.WriteNull();
                }
            }

            import.Complete();
        }

        public void Dispose()
        {
        }
    }
}
