using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>The <c>audit</c> table: batched inserts, retention pruning, and reads for <c>audit tail|export</c>.</summary>
internal sealed class SqliteAuditRepository(StateDatabase database) : IAuditRepository
{

    /// <summary>Writes a batch in one transaction (a one-off writer; the trail keeps one open).</summary>
    public void Insert(IReadOnlyList<AuditRecord> records, AuditArguments arguments)
    {
        using var writer = OpenWriter(arguments);
        writer.Write(records);
    }

    /// <summary>A long-lived connection with its INSERT prepared once: a batch then costs one transaction and a step per row.</summary>
    public IAuditWriter OpenWriter(AuditArguments arguments) => new Writer(database.Connect(), arguments);

    private sealed class Writer : IAuditWriter
    {
        private readonly Microsoft.Data.Sqlite.SqliteConnection _connection;
        private readonly Microsoft.Data.Sqlite.SqliteCommand _insert;
        private readonly Microsoft.Data.Sqlite.SqliteParameter[] _values;
        private readonly AuditArguments _arguments;

        public Writer(Microsoft.Data.Sqlite.SqliteConnection connection, AuditArguments arguments)
        {
            _connection = connection;
            _arguments = arguments;
            _insert = connection.CreateCommand();
            _insert.CommandText = """
                INSERT INTO audit (at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision)
                VALUES ($at, $principal, $profile, $server, $method, $item, $outcome, $duration, $request, $response, $arguments, $session, $decision)
                """;
            _values =
            [
                _insert.Parameters.Add("$at", Microsoft.Data.Sqlite.SqliteType.Integer),
                _insert.Parameters.Add("$principal", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$profile", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$server", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$method", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$item", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$outcome", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$duration", Microsoft.Data.Sqlite.SqliteType.Real),
                _insert.Parameters.Add("$request", Microsoft.Data.Sqlite.SqliteType.Integer),
                _insert.Parameters.Add("$response", Microsoft.Data.Sqlite.SqliteType.Integer),
                _insert.Parameters.Add("$arguments", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$session", Microsoft.Data.Sqlite.SqliteType.Text),
                _insert.Parameters.Add("$decision", Microsoft.Data.Sqlite.SqliteType.Text),
            ];
            _insert.Prepare();
        }

        public void Write(IReadOnlyList<AuditRecord> records)
        {
            using var transaction = _connection.BeginTransaction();
            _insert.Transaction = transaction;
            foreach (var record in records)
            {
                _values[0].Value = record.At.ToUnixTimeMilliseconds();
                _values[1].Value = record.Principal;
                _values[2].Value = record.Profile;
                _values[3].Value = record.Server;
                _values[4].Value = record.Method;
                _values[5].Value = record.Item;
                _values[6].Value = record.Outcome;
                _values[7].Value = record.DurationMilliseconds;
                _values[8].Value = record.RequestBytes;
                _values[9].Value = record.ResponseBytes;
                _values[10].Value = (object?)AuditRedaction.Keep(record.Arguments, _arguments) ?? DBNull.Value;
                _values[11].Value = record.Session;
                _values[12].Value = (object?)record.Decision ?? DBNull.Value;
                _insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        public void Dispose()
        {
            _insert.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>Deletes records older than <paramref name="cutoff"/>; returns how many.</summary>
    public int Prune(DateTimeOffset cutoff)
    {
        using var connection = database.Connect();
        using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM audit WHERE at < $cutoff";
        delete.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return delete.ExecuteNonQuery();
    }

    /// <summary>Records from <paramref name="since"/> on, oldest first; with <paramref name="last"/>, only the newest that many.</summary>
    public List<AuditRecord> Read(DateTimeOffset? since, DateTimeOffset? until, int? last)
    {
        using var connection = database.Connect();
        using var select = connection.CreateCommand();
        var filter = "WHERE at >= $since AND at < $until";
        select.CommandText = last is null
            ? $"SELECT at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision FROM audit {filter} ORDER BY id"
            : $"SELECT * FROM (SELECT at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision, id FROM audit {filter} ORDER BY id DESC LIMIT $last) ORDER BY id";
        select.Parameters.AddWithValue("$since", since?.ToUnixTimeMilliseconds() ?? 0);
        select.Parameters.AddWithValue("$until", until?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        if (last is { } count)
        {
            select.Parameters.AddWithValue("$last", count);
        }

        using var reader = select.ExecuteReader();
        return StateRows.AuditRecords(reader);
    }
}
