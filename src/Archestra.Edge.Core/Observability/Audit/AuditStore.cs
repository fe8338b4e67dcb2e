using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Storage;

namespace Archestra.Edge.Observability.Audit;

/// <summary>The <c>audit</c> table: batched inserts, retention pruning, and reads for <c>audit tail|export</c>.</summary>
internal sealed class AuditStore
{
    private readonly StateDatabase _database;

    public AuditStore(StateDatabase database)
    {
        _database = database;
    }

    /// <summary>Writes a batch in one transaction, keeping of the arguments what <paramref name="arguments"/> says.</summary>
    public void Insert(IReadOnlyList<AuditRecord> records, AuditArguments arguments)
    {
        using var connection = _database.Connect();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO audit (at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session)
            VALUES ($at, $principal, $profile, $server, $method, $item, $outcome, $duration, $request, $response, $arguments, $session)
            """;
        var at = insert.Parameters.Add("$at", Microsoft.Data.Sqlite.SqliteType.Integer);
        var principal = insert.Parameters.Add("$principal", Microsoft.Data.Sqlite.SqliteType.Text);
        var profile = insert.Parameters.Add("$profile", Microsoft.Data.Sqlite.SqliteType.Text);
        var server = insert.Parameters.Add("$server", Microsoft.Data.Sqlite.SqliteType.Text);
        var method = insert.Parameters.Add("$method", Microsoft.Data.Sqlite.SqliteType.Text);
        var item = insert.Parameters.Add("$item", Microsoft.Data.Sqlite.SqliteType.Text);
        var outcome = insert.Parameters.Add("$outcome", Microsoft.Data.Sqlite.SqliteType.Text);
        var duration = insert.Parameters.Add("$duration", Microsoft.Data.Sqlite.SqliteType.Real);
        var request = insert.Parameters.Add("$request", Microsoft.Data.Sqlite.SqliteType.Integer);
        var response = insert.Parameters.Add("$response", Microsoft.Data.Sqlite.SqliteType.Integer);
        var args = insert.Parameters.Add("$arguments", Microsoft.Data.Sqlite.SqliteType.Text);
        var session = insert.Parameters.Add("$session", Microsoft.Data.Sqlite.SqliteType.Text);
        foreach (var record in records)
        {
            at.Value = record.At.ToUnixTimeMilliseconds();
            principal.Value = record.Principal;
            profile.Value = record.Profile;
            server.Value = record.Server;
            method.Value = record.Method;
            item.Value = record.Item;
            outcome.Value = record.Outcome;
            duration.Value = record.DurationMilliseconds;
            request.Value = record.RequestBytes;
            response.Value = record.ResponseBytes;
            args.Value = (object?)Keep(record.Arguments, arguments) ?? DBNull.Value;
            session.Value = record.Session;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Deletes records older than <paramref name="cutoff"/>; returns how many.</summary>
    public int Prune(DateTimeOffset cutoff)
    {
        using var connection = _database.Connect();
        using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM audit WHERE at < $cutoff";
        delete.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return delete.ExecuteNonQuery();
    }

    /// <summary>Records from <paramref name="since"/> on, oldest first; with <paramref name="last"/>, only the newest that many.</summary>
    public List<AuditRecord> Read(DateTimeOffset? since, DateTimeOffset? until, int? last)
    {
        using var connection = _database.Connect();
        using var select = connection.CreateCommand();
        var filter = "WHERE at >= $since AND at < $until";
        select.CommandText = last is null
            ? $"SELECT at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session FROM audit {filter} ORDER BY id"
            : $"SELECT * FROM (SELECT at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, id FROM audit {filter} ORDER BY id DESC LIMIT $last) ORDER BY id";
        select.Parameters.AddWithValue("$since", since?.ToUnixTimeMilliseconds() ?? 0);
        select.Parameters.AddWithValue("$until", until?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        if (last is { } count)
        {
            select.Parameters.AddWithValue("$last", count);
        }

        var records = new List<AuditRecord>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            records.Add(new AuditRecord(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetDouble(7), reader.GetInt64(8),
                reader.GetInt64(9), reader.GetString(11))
            {
                StoredArguments = reader.IsDBNull(10) ? null : reader.GetString(10),
            });
        }

        return records;
    }

    /// <summary>What the trail keeps of raw arguments: all, none, or each top-level name with its value hidden.</summary>
    internal static string? Keep(byte[]? raw, AuditArguments mode)
    {
        if (raw is null || mode == AuditArguments.None)
        {
            return null;
        }

        if (mode == AuditArguments.Full)
        {
            return Encoding.UTF8.GetString(raw);
        }

        try
        {
            using var document = JsonDocument.Parse(raw);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return "\"[redacted]\"";
            }

            var buffer = new ArrayBufferWriter<byte>(raw.Length);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    writer.WriteString(property.Name, "[redacted]");
                }

                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException)
        {
            return "\"[redacted]\"";
        }
    }
}
