using System.Data.Common;
using Archestra.Edge.Identity;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;

namespace Archestra.Edge.Storage;

/// <summary>
/// The rows of the state tables as records, read the same way from every backend (both readers are
/// <see cref="DbDataReader"/>s, and the tables have the same columns in the same order): only the SQL and the
/// parameters differ between SQLite and PostgreSQL. Times are Unix seconds (audit: milliseconds) in 64-bit integers.
/// </summary>
internal static class StateRows
{
    /// <summary><c>id, name, hash, scope, profiles, created_at, expires_at, revoked_at</c>; null for a scope this version cannot read.</summary>
    public static TokenRecord? Token(DbDataReader reader)
        => TokenScope.TryParse(reader.GetString(3), out var scope)
            ? new TokenRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetFieldValue<byte[]>(2),
                scope,
                reader.IsDBNull(4) ? [] : [.. reader.GetString(4).Split(',', StringSplitOptions.RemoveEmptyEntries)],
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(5)),
                Seconds(reader, 6),
                Seconds(reader, 7),
                Declared: false)
            : null;

    /// <summary><c>name, redirect_uris, kind</c> of the client <paramref name="clientId"/>.</summary>
    public static OAuthClient Client(string clientId, DbDataReader reader)
        => new(clientId, reader.IsDBNull(0) ? null : reader.GetString(0), [.. reader.GetString(1).Split('\n')], reader.GetString(2));

    /// <summary><c>client_id, redirect_uri, challenge, user_id, resource, scope, expires_at, used_at, family</c>.</summary>
    public static StoredCode Code(DbDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(6)), !reader.IsDBNull(7), reader.GetString(8));

    /// <summary><c>family, client_id, user_id, resource, scope, expires_at, used_at, revoked_at</c>.</summary>
    public static StoredRefreshToken RefreshToken(DbDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(5)), !reader.IsDBNull(6), !reader.IsDBNull(7));

    /// <summary><c>family, client_id, user_id, resource, max(expires_at), max(revoked_at)</c>, a grant per row.</summary>
    public static List<GrantInfo> Grants(DbDataReader reader)
    {
        var grants = new List<GrantInfo>();
        while (reader.Read())
        {
            grants.Add(new GrantInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)), Seconds(reader, 5)));
        }

        return grants;
    }

    /// <summary><c>kid, algorithm, private_key, retired_at</c>, a key per row.</summary>
    public static List<StoredSigningKey> SigningKeys(DbDataReader reader)
    {
        var keys = new List<StoredSigningKey>();
        while (reader.Read())
        {
            keys.Add(new StoredSigningKey(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), Seconds(reader, 3)));
        }

        return keys;
    }

    /// <summary><c>server, owner, payload, updated_at</c>: a sealed connection per row.</summary>
    public static List<Upstreams.OAuth.StoredConnection> Connections(DbDataReader reader)
    {
        var connections = new List<Upstreams.OAuth.StoredConnection>();
        while (reader.Read())
        {
            connections.Add(new Upstreams.OAuth.StoredConnection(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2),
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3))));
        }

        return connections;
    }

    /// <summary><c>at, principal, profile, server, method, item, outcome, duration_ms, request_bytes, response_bytes, arguments, session, decision</c>, a record per row.</summary>
    public static List<AuditRecord> AuditRecords(DbDataReader reader)
    {
        var records = new List<AuditRecord>();
        while (reader.Read())
        {
            records.Add(new AuditRecord(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetDouble(7), reader.GetInt64(8),
                reader.GetInt64(9), reader.GetString(11))
            {
                StoredArguments = reader.IsDBNull(10) ? null : reader.GetString(10),
                Decision = reader.IsDBNull(12) ? null : reader.GetString(12),
            });
        }

        return records;
    }

    /// <summary>The first column of every row, as text.</summary>
    public static List<string> Strings(DbDataReader reader)
    {
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    public static DateTimeOffset? Seconds(DbDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(ordinal));
}
