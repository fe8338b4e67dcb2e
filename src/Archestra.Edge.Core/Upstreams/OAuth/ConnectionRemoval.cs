using Archestra.Edge.Contracts;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>
/// What the CLI, the admin API and the connect page share about stored connections: describing one without its
/// tokens, and removing one — its tokens revoked at the authorization server first (RFC 7009), where it can be.
/// </summary>
internal static class ConnectionRemoval
{
    public static ConnectionInfo Describe(StoredConnection row, ConnectionVault vault)
    {
        var opened = vault.Open(row.Server, row.Owner, row.Sealed) is { } plaintext ? UpstreamConnection.Deserialize(plaintext) : null;
        return opened is null
            ? new ConnectionInfo(row.Server, row.Owner, row.UpdatedAt, false, null, null, false, "cannot be opened: sealed with a key that is no longer configured")
            : new ConnectionInfo(row.Server, row.Owner, row.UpdatedAt, true, opened.Tokens.ExpiresAt, opened.Tokens.Scope, opened.Tokens.RefreshToken is not null,
                vault.IsStale(row.Sealed) ? "sealed with a previous key (rewritten at its next refresh)" : null);
    }

    /// <summary>Found or not; and why the authorization server was not told, if it was not.</summary>
    public static async Task<(bool Found, string? Problem)> RemoveAsync(HttpClient http, IConnectionRepository repository, ConnectionVault vault,
        string server, string owner, CancellationToken cancellationToken)
    {
        if (repository.Get(server, owner) is not { } row)
        {
            return (false, null);
        }

        var problem = vault.Open(server, owner, row.Sealed) is { } plaintext && UpstreamConnection.Deserialize(plaintext) is { } connection
            ? await UpstreamOAuthClient.RevokeAsync(http, connection, cancellationToken).ConfigureAwait(false)
            : "the connection could not be opened (sealed with a key no longer configured), so its tokens were not revoked upstream";
        repository.Delete(server, owner);
        return (true, problem);
    }
}
