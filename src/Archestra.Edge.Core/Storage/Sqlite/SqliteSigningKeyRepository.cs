using Archestra.Edge.Identity.OAuth;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>Signing keys in the <c>signing_keys</c> table of the owner-only state database.</summary>
internal sealed class SqliteSigningKeyRepository(StateDatabase database) : ISigningKeyRepository
{
    public IReadOnlyList<StoredSigningKey> Load(DateTimeOffset retiredSince)
    {
        using var connection = database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kid, algorithm, private_key, retired_at FROM signing_keys WHERE retired_at IS NULL OR retired_at >= $oldest ORDER BY created_at";
        command.Parameters.AddWithValue("$oldest", retiredSince.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.SigningKeys(reader);
    }

    public void Rotate(string kid, string algorithm, byte[] privateKey, DateTimeOffset at) => RotateCore(kid, algorithm, privateKey, at, onlyIfNone: null);

    public bool CreateIfNoneActive(string kid, string algorithm, byte[] privateKey, DateTimeOffset at) => RotateCore(kid, algorithm, privateKey, at, onlyIfNone: algorithm);

    private bool RotateCore(string kid, string algorithm, byte[] privateKey, DateTimeOffset at, string? onlyIfNone)
    {
        var now = at.ToUnixTimeSeconds();
        using var connection = database.Connect();
        // BEGIN IMMEDIATE: the check and the rotation hold the write lock together.
        using var transaction = connection.BeginTransaction(deferred: false);
        if (onlyIfNone is not null)
        {
            using var active = connection.CreateCommand();
            active.Transaction = transaction;
            active.CommandText = "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL AND algorithm = $alg";
            active.Parameters.AddWithValue("$alg", onlyIfNone);
            if ((long)active.ExecuteScalar()! > 0)
            {
                return false;
            }
        }

        using (var retire = connection.CreateCommand())
        {
            retire.Transaction = transaction;
            retire.CommandText = "UPDATE signing_keys SET retired_at = $now WHERE retired_at IS NULL";
            retire.Parameters.AddWithValue("$now", now);
            retire.ExecuteNonQuery();
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES ($kid, $alg, $key, $now)";
            insert.Parameters.AddWithValue("$kid", kid);
            insert.Parameters.AddWithValue("$alg", algorithm);
            insert.Parameters.AddWithValue("$key", privateKey);
            insert.Parameters.AddWithValue("$now", now);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return true;
    }
}
