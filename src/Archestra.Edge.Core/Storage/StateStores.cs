using Archestra.Edge.Identity;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Storage.Sqlite;

namespace Archestra.Edge.Storage;

/// <summary>
/// The gateway's local state, one repository per store: issued tokens, OAuth clients, codes and grants, signing keys,
/// the audit trail. Each interface belongs to the room that uses it; a backend implements all of them, and choosing
/// one is this factory's business alone (SQLite in <c>data_dir/archestra.db</c> today).
/// </summary>
internal sealed record StateStores(
    Func<ITokenRepository> Tokens,
    IClientRepository Clients,
    IGrantRepository Grants,
    ISigningKeyRepository SigningKeys,
    IAuditRepository Audit)
{
    /// <summary>Every store in one SQLite database (created owner-only with its schema if missing).</summary>
    public static StateStores Sqlite(string dataDirectory) => Sqlite(StateDatabase.Open(dataDirectory));

    public static StateStores Sqlite(StateDatabase database) => new(
        () => new SqliteTokenRepository(database),
        new SqliteClientRepository(database),
        new SqliteGrantRepository(database),
        new SqliteSigningKeyRepository(database),
        new SqliteAuditRepository(database));
}
