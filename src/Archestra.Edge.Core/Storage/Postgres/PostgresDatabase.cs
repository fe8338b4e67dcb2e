using Npgsql;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>
/// The state shared by a fleet of instances, in PostgreSQL (<c>storage: postgres</c>): the same tables as the SQLite
/// database plus the fleet's membership and secret. Connections come from one Npgsql data source (pooled, the slim
/// builder: only plain types, nothing reflected, so it trims and publishes under Native AOT). The schema is created or
/// upgraded under a transaction-scoped advisory lock, so instances starting together migrate once, one after another.
/// Every change to tokens, revoked grants or signing keys bumps <c>state_version</c> and notifies
/// <see cref="ChangeChannel"/>, which each instance listens on (<see cref="PostgresChangeListener"/>).
/// </summary>
internal sealed class PostgresDatabase : IDisposable
{
    public const string ChangeChannel = "archestra_state";
    private const int SchemaVersion = 3;

    private const string ConnectionsTable = "CREATE TABLE IF NOT EXISTS upstream_connections (server text NOT NULL, owner text NOT NULL, payload bytea NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (server, owner));";

    // "Archestr" in ASCII: the advisory lock every instance takes while migrating.
    private const long MigrationLock = 0x4172636865737472;

    private readonly NpgsqlDataSource _source;

    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.ApplicationName ??= "archestra-edge";
        if (!builder.ContainsKey("Timeout"))
        {
            builder.Timeout = 5;
        }

        if (!builder.ContainsKey("Command Timeout"))
        {
            builder.CommandTimeout = 10;
        }

        ConnectionString = builder.ConnectionString;
        _source = new NpgsqlSlimDataSourceBuilder(ConnectionString).Build();
        Migrate();
    }

    /// <summary>The connection string with the gateway's defaults (application name, timeouts) applied.</summary>
    public string ConnectionString { get; }

    public NpgsqlConnection Connect() => _source.OpenConnection();

    public static NpgsqlCommand Command(NpgsqlConnection connection, string text, NpgsqlTransaction? transaction = null)
        => new(text, connection, transaction);

    public void Dispose() => _source.Dispose();

    private void Migrate()
    {
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();
        using (var locking = Command(connection, "SELECT pg_advisory_xact_lock(@lock)", transaction))
        {
            locking.Parameters.AddWithValue("lock", MigrationLock);
            locking.ExecuteNonQuery();
        }

        using (var version = Command(connection, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL); SELECT max(version) FROM schema_version", transaction))
        {
            var found = version.ExecuteScalar();
            if (found is int known && known > SchemaVersion)
            {
                throw new InvalidOperationException($"the PostgreSQL database was written by a newer version of the gateway (schema {known}, this one knows {SchemaVersion})");
            }

            if (found is int existing)
            {
                if (existing < 2)
                {
                    // 2: audit records name the policy decision that applied to the call.
                    version.CommandText = "ALTER TABLE audit ADD COLUMN IF NOT EXISTS decision text; UPDATE schema_version SET version = 2";
                    version.ExecuteNonQuery();
                }

                if (existing < 3)
                {
                    // 3: the gateway's sealed OAuth connections to upstream servers.
                    version.CommandText = $"{ConnectionsTable} UPDATE schema_version SET version = 3";
                    version.ExecuteNonQuery();
                }

                transaction.Commit();
                return;
            }
        }

        // A fresh database (the first instance to take the lock): the whole schema, in the same transaction.
        using (var create = Command(connection, $$"""
            INSERT INTO schema_version (version) VALUES ({{SchemaVersion}});
            {{ConnectionsTable}}
            CREATE TABLE IF NOT EXISTS state_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
            INSERT INTO state_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
            CREATE TABLE IF NOT EXISTS tokens (
                id text PRIMARY KEY,
                name text NOT NULL,
                hash bytea NOT NULL UNIQUE,
                scope text NOT NULL,
                profiles text,
                created_at bigint NOT NULL,
                expires_at bigint,
                revoked_at bigint);
            CREATE TABLE IF NOT EXISTS oauth_clients (
                client_id text PRIMARY KEY,
                name text,
                redirect_uris text NOT NULL,
                kind text NOT NULL,
                created_at bigint NOT NULL,
                last_used_at bigint);
            CREATE TABLE IF NOT EXISTS oauth_codes (
                hash bytea PRIMARY KEY,
                client_id text NOT NULL,
                redirect_uri text NOT NULL,
                challenge text NOT NULL,
                user_id text NOT NULL,
                resource text NOT NULL,
                scope text,
                expires_at bigint NOT NULL,
                used_at bigint,
                family text NOT NULL);
            CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
                hash bytea PRIMARY KEY,
                family text NOT NULL,
                client_id text NOT NULL,
                user_id text NOT NULL,
                resource text NOT NULL,
                scope text,
                expires_at bigint NOT NULL,
                used_at bigint,
                revoked_at bigint);
            CREATE INDEX IF NOT EXISTS oauth_refresh_family ON oauth_refresh_tokens (family);
            CREATE TABLE IF NOT EXISTS oauth_revoked_grants (
                family text PRIMARY KEY,
                revoked_at bigint NOT NULL,
                expires_at bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS audit (
                id bigserial PRIMARY KEY,
                at bigint NOT NULL,
                instance text NOT NULL,
                principal text NOT NULL,
                profile text NOT NULL,
                server text NOT NULL,
                method text NOT NULL,
                item text NOT NULL,
                outcome text NOT NULL,
                duration_ms double precision NOT NULL,
                request_bytes bigint NOT NULL,
                response_bytes bigint NOT NULL,
                arguments text,
                session text NOT NULL,
                decision text);
            CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
            CREATE TABLE IF NOT EXISTS signing_keys (
                kid text PRIMARY KEY,
                algorithm text NOT NULL,
                private_key bytea NOT NULL,
                created_at bigint NOT NULL,
                retired_at bigint);
            CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
            CREATE TABLE IF NOT EXISTS fleet_secret (id integer PRIMARY KEY CHECK (id = 1), secret bytea NOT NULL);
            INSERT INTO fleet_secret (id, secret) VALUES (1, @secret) ON CONFLICT (id) DO NOTHING;
            CREATE TABLE IF NOT EXISTS fleet_members (
                instance text PRIMARY KEY,
                url text NOT NULL,
                version text NOT NULL,
                fingerprint text NOT NULL,
                started_at bigint NOT NULL,
                seen_at bigint NOT NULL);
            CREATE OR REPLACE FUNCTION archestra_state_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                UPDATE state_version SET version = version + 1 WHERE id = 1;
                PERFORM pg_notify('archestra_state', TG_TABLE_NAME);
                RETURN NULL;
            END $body$;
            CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE ON tokens FOR EACH STATEMENT EXECUTE FUNCTION archestra_state_changed();
            CREATE TRIGGER revoked_grants_changed AFTER INSERT OR UPDATE OR DELETE ON oauth_revoked_grants FOR EACH STATEMENT EXECUTE FUNCTION archestra_state_changed();
            CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys FOR EACH STATEMENT EXECUTE FUNCTION archestra_state_changed();
            """, transaction))
        {
            var secret = new byte[32];
            Utilities.SecureRandom.Fill(secret);
            create.Parameters.AddWithValue("secret", secret);
            create.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
