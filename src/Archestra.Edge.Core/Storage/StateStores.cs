using Archestra.Edge.Identity;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Storage.Postgres;
using Archestra.Edge.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Storage;

/// <summary>
/// The gateway's local state, one repository per store: issued tokens, OAuth clients, codes and grants, signing keys,
/// the audit trail, the sealed connections to OAuth-protected upstreams. Each interface belongs to the room that uses it; a backend implements all of them, and choosing
/// one is this factory's business alone: SQLite in <c>data_dir/archestra.db</c> by default, PostgreSQL for a fleet
/// (which adds <see cref="Fleet"/>: the membership and the shared secret).
/// </summary>
internal sealed record StateStores(
    Func<ITokenRepository> Tokens,
    IClientRepository Clients,
    IGrantRepository Grants,
    ISigningKeyRepository SigningKeys,
    IAuditRepository Audit,
    Upstreams.OAuth.IConnectionRepository Connections,
    Fleet.IFleetRepository? Fleet = null)
{
    /// <summary>The stores <paramref name="snapshot"/> names: its PostgreSQL, or SQLite in its data directory.</summary>
    /// <param name="instance">Who writes audit records (a fleet instance's id, or the CLI).</param>
    public static StateStores Open(Model.GatewaySnapshot snapshot, string instance, ILogger logger)
        => snapshot.Storage.PostgresConnection is { } connection ? Postgres(new PostgresDatabase(connection), instance, logger) : Sqlite(snapshot.Listener.DataDirectory);

    public static StateStores Postgres(PostgresDatabase database, string instance, ILogger logger) => new(
        () => new PostgresTokenRepository(database, logger),
        new PostgresClientRepository(database),
        new PostgresGrantRepository(database),
        new PostgresSigningKeyRepository(database),
        new PostgresAuditRepository(database, instance),
        new PostgresConnectionRepository(database),
        new PostgresFleetRepository(database));

    /// <summary>Every store in one SQLite database (created owner-only with its schema if missing).</summary>
    public static StateStores Sqlite(string dataDirectory) => Sqlite(StateDatabase.Open(dataDirectory));

    public static StateStores Sqlite(StateDatabase database) => new(
        () => new SqliteTokenRepository(database),
        new SqliteClientRepository(database),
        new SqliteGrantRepository(database),
        new SqliteSigningKeyRepository(database),
        new SqliteAuditRepository(database),
        new SqliteConnectionRepository(database));
}
