using Npgsql;
using NpgsqlTypes;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>Times as Unix seconds in <c>bigint</c> columns, nullable both ways (the same encoding as the SQLite tables).</summary>
internal static class PostgresValues
{
    public static NpgsqlParameter Seconds(string name, DateTimeOffset? value)
        => new(name, NpgsqlDbType.Bigint) { Value = value is { } at ? at.ToUnixTimeSeconds() : DBNull.Value };

    public static NpgsqlParameter Text(string name, string? value)
        => new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };
}
