using Archestra.Edge.Identity.OAuth;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>
/// The built-in authorization server's keys, shared: every instance signs with the one active key and publishes the
/// same JWKS. At most one key is active (a partial unique index); rotations are serialized by a row lock.
/// </summary>
internal sealed class PostgresSigningKeyRepository(PostgresDatabase database) : ISigningKeyRepository
{
    public IReadOnlyList<StoredSigningKey> Load(DateTimeOffset retiredSince)
    {
        using var connection = database.Connect();
        using var command = PostgresDatabase.Command(connection, "SELECT kid, algorithm, private_key, retired_at FROM signing_keys WHERE retired_at IS NULL OR retired_at >= @oldest ORDER BY created_at, kid");
        command.Parameters.AddWithValue("oldest", retiredSince.ToUnixTimeSeconds());
        using var reader = command.ExecuteReader();
        return StateRows.SigningKeys(reader);
    }

    public void Rotate(string kid, string algorithm, byte[] privateKey, DateTimeOffset at) => RotateCore(kid, algorithm, privateKey, at, onlyIfNone: null);

    public bool CreateIfNoneActive(string kid, string algorithm, byte[] privateKey, DateTimeOffset at) => RotateCore(kid, algorithm, privateKey, at, onlyIfNone: algorithm);

    private bool RotateCore(string kid, string algorithm, byte[] privateKey, DateTimeOffset at, string? onlyIfNone)
    {
        using var connection = database.Connect();
        using var transaction = connection.BeginTransaction();
        using (var serialize = PostgresDatabase.Command(connection, "SELECT version FROM state_version WHERE id = 1 FOR UPDATE", transaction))
        {
            serialize.ExecuteNonQuery();
        }

        if (onlyIfNone is not null)
        {
            using var active = PostgresDatabase.Command(connection, "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL AND algorithm = @alg", transaction);
            active.Parameters.AddWithValue("alg", onlyIfNone);
            if ((long)active.ExecuteScalar()! > 0)
            {
                return false;
            }
        }

        using (var retire = PostgresDatabase.Command(connection, "UPDATE signing_keys SET retired_at = @now WHERE retired_at IS NULL", transaction))
        {
            retire.Parameters.AddWithValue("now", at.ToUnixTimeSeconds());
            retire.ExecuteNonQuery();
        }

        using (var insert = PostgresDatabase.Command(connection, "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES (@kid, @alg, @key, @now)", transaction))
        {
            insert.Parameters.AddWithValue("kid", kid);
            insert.Parameters.AddWithValue("alg", algorithm);
            insert.Parameters.AddWithValue("key", privateKey);
            insert.Parameters.AddWithValue("now", at.ToUnixTimeSeconds());
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return true;
    }
}
