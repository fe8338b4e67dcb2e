using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Archestra.Edge.Storage.Sqlite;

/// <summary>
/// The gateway's little local state in SQLite (<c>data_dir/archestra.db</c>, WAL): issued tokens, OAuth clients,
/// codes and refresh tokens, signing keys, the audit trail. Only secrets' hashes are stored, except the signing keys, which is why
/// the file is created readable by its owner only. Every operation opens a pooled connection; writers are few.
/// </summary>
internal sealed class StateDatabase
{
    private const int SchemaVersion = 4;
    private static int s_providerSet;

    private readonly string _connectionString;

    public StateDatabase(string path)
    {
        EnsureProvider();
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 5 }.ToString();
        Migrate();
    }

    public string Path { get; }

    /// <summary>The database of a data directory, created (owner-only) with its schema if missing.</summary>
    public static StateDatabase Open(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, "archestra.db");
        if (!File.Exists(path) && !OperatingSystem.IsWindows())
        {
            using (File.Create(path))
            {
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new StateDatabase(path);
    }

    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        // synchronous = NORMAL is WAL's usual pairing: commits survive a crash of the process; only a power loss
        // can undo the last ones. Without it every commit (an audit batch, a token) waits for an fsync.
        pragmas.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>A number that changes whenever another connection (another process) commits (<c>PRAGMA data_version</c> of one long-lived connection).</summary>
    public static long DataVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA data_version";
        return (long)command.ExecuteScalar()!;
    }

    public static long Now(TimeProvider time) => time.GetUtcNow().ToUnixTimeSeconds();

    private void Migrate()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                hash BLOB NOT NULL UNIQUE,
                scope TEXT NOT NULL,
                profiles TEXT,
                created_at INTEGER NOT NULL,
                expires_at INTEGER,
                revoked_at INTEGER);
            CREATE TABLE IF NOT EXISTS oauth_clients (
                client_id TEXT PRIMARY KEY,
                name TEXT,
                redirect_uris TEXT NOT NULL,
                kind TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS oauth_codes (
                hash BLOB PRIMARY KEY,
                client_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                challenge TEXT NOT NULL,
                user_id TEXT NOT NULL,
                resource TEXT NOT NULL,
                scope TEXT,
                expires_at INTEGER NOT NULL,
                used_at INTEGER,
                family TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
                hash BLOB PRIMARY KEY,
                family TEXT NOT NULL,
                client_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                resource TEXT NOT NULL,
                scope TEXT,
                expires_at INTEGER NOT NULL,
                used_at INTEGER,
                revoked_at INTEGER);
            CREATE INDEX IF NOT EXISTS oauth_refresh_family ON oauth_refresh_tokens (family);
            CREATE TABLE IF NOT EXISTS oauth_revoked_grants (
                family TEXT PRIMARY KEY,
                revoked_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS audit (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                principal TEXT NOT NULL,
                profile TEXT NOT NULL,
                server TEXT NOT NULL,
                method TEXT NOT NULL,
                item TEXT NOT NULL,
                outcome TEXT NOT NULL,
                duration_ms REAL NOT NULL,
                request_bytes INTEGER NOT NULL,
                response_bytes INTEGER NOT NULL,
                arguments TEXT,
                session TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
            CREATE TABLE IF NOT EXISTS signing_keys (
                kid TEXT PRIMARY KEY,
                algorithm TEXT NOT NULL,
                private_key BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                retired_at INTEGER);
            """;
        command.ExecuteNonQuery();

        command.CommandText = "SELECT version FROM schema_version";
        var version = command.ExecuteScalar();
        if (version is null)
        {
            command.CommandText = "INSERT INTO schema_version (version) VALUES (1)";
            command.ExecuteNonQuery();
            version = 1L;
        }
        else if ((long)version > SchemaVersion)
        {
            throw new InvalidOperationException($"{Path} was written by a newer version of the gateway (schema {version}, this one knows {SchemaVersion})");
        }

        // 2: registered OAuth clients remember their last sign-in, so unused registrations can expire.
        MigrateTo(connection, command, (long)version, 2, "ALTER TABLE oauth_clients ADD COLUMN last_used_at INTEGER;");

        // 3: audit records name the policy decision that applied to the call.
        MigrateTo(connection, command, (long)version, 3, "ALTER TABLE audit ADD COLUMN decision TEXT;");

        // 4: the gateway's sealed OAuth connections to upstream servers.
        MigrateTo(connection, command, (long)version, 4, "CREATE TABLE IF NOT EXISTS upstream_connections (server TEXT NOT NULL, owner TEXT NOT NULL, payload BLOB NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (server, owner));");
    }

    /// <summary>Runs one schema step (and records its version) in one transaction, if the database is older.</summary>
    private static void MigrateTo(SqliteConnection connection, SqliteCommand command, long current, int target, string change)
    {
        if (current >= target)
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        command.Transaction = transaction;
        command.CommandText = $"{change} UPDATE schema_version SET version = {target};";
        command.ExecuteNonQuery();
        transaction.Commit();
        command.Transaction = null;
    }

    /// <summary>Microsoft.Data.Sqlite over the system SQLite: linked in statically in the AOT binary, the shared library otherwise.</summary>
    private static void EnsureProvider()
    {
        if (Interlocked.Exchange(ref s_providerSet, 1) == 1)
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_sqlite3).Assembly, static (name, assembly, path) =>
            name == "sqlite3" && NativeLibrary.TryLoad("libsqlite3.so.0", assembly, path, out var handle) ? handle : IntPtr.Zero);
        SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
    }
}
