using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>
/// The gateway's live view of its OAuth connections: the access token each server is called with, opened from the
/// state store on first use and kept in memory, refreshed (single-flight per server) shortly before it expires or when
/// the server refuses it, the rotated refresh token written back sealed. The store is read again before a refresh, so
/// a connection renewed elsewhere (the CLI, another instance of a fleet) is picked up rather than refreshed twice.
/// Tokens never leave this class except as the <c>Authorization</c> header of upstream requests.
/// </summary>
internal sealed partial class UpstreamConnections
{
    /// <summary>A token this close to its expiry is refreshed before use.</summary>
    private static readonly TimeSpan s_margin = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection is used without reading the store again (a revocation takes effect within this).</summary>
    private static readonly TimeSpan s_reread = TimeSpan.FromSeconds(2);

    private readonly IConnectionRepository _repository;
    private readonly ConnectionVault _vault;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public UpstreamConnections(IConnectionRepository repository, ConnectionVault vault, HttpClient http, TimeProvider time, ILogger logger)
    {
        _repository = repository;
        _vault = vault;
        _http = http;
        _time = time;
        _logger = logger;
    }

    /// <summary>The access token to call <paramref name="server"/> with now; <paramref name="rejected"/> is one the server just refused.</summary>
    public async ValueTask<(string? AccessToken, UpstreamError Error)> AccessTokenAsync(string server, string? rejected, CancellationToken cancellationToken,
        Model.RemoteServerModel? remote = null)
    {
        var entry = _entries.GetOrAdd(server, static _ => new Entry());
        var current = entry.Connection;
        var now = _time.GetUtcNow();
        if (current is not null && rejected != current.Tokens.AccessToken && !current.ExpiresWithin(now, s_margin) && now - entry.ReadAt < s_reread)
        {
            return (current.Tokens.AccessToken, UpstreamError.None);
        }

        await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The store first: the connection may be new, renewed or revoked by the CLI, or refreshed by another instance.
            var stored = Load(server);
            entry.ReadAt = _time.GetUtcNow();
            if (remote?.OAuth is { ClientCredentials: true } machine
                && (stored is null || stored.Tokens.AccessToken == rejected || stored.ExpiresWithin(_time.GetUtcNow(), s_margin)))
            {
                return await MachineTokenAsync(server, remote, machine, stored, entry, cancellationToken).ConfigureAwait(false);
            }

            if (stored is null)
            {
                entry.Connection = null;
                return (null, Missing(server));
            }

            if (stored.Tokens.AccessToken != rejected && !stored.ExpiresWithin(_time.GetUtcNow(), s_margin))
            {
                entry.Connection = stored;
                return (stored.Tokens.AccessToken, UpstreamError.None);
            }

            if (stored.Tokens.RefreshToken is not { } refresh)
            {
                entry.Connection = null;
                return (null, new UpstreamError(UpstreamErrorKind.CredentialMissing,
                    $"the connection of server '{server}' has expired and cannot be refreshed; connect it again: archestra-edge connections connect {server}"));
            }

            var (tokens, error) = await UpstreamOAuthClient.RefreshAsync(_http, stored.Authorization, stored.Client, refresh, cancellationToken).ConfigureAwait(false);
            if (tokens is null)
            {
                Log.RefreshFailed(_logger, server, error ?? "no answer");
                entry.Connection = null;
                return (null, new UpstreamError(UpstreamErrorKind.CredentialMissing,
                    $"the connection of server '{server}' was refused by its authorization server ({error}); connect it again: archestra-edge connections connect {server}"));
            }

            var renewed = stored with { Tokens = tokens };
            Save(server, renewed);
            entry.Connection = renewed;
            Log.Refreshed(_logger, server);
            return (tokens.AccessToken, UpstreamError.None);
        }
        finally
        {
            entry.Lock.Release();
        }
    }

    /// <summary>
    /// A machine connection's new tokens: the authorization server found again only when none is stored yet, the client
    /// authenticating with its secret; kept sealed like any connection, so a fleet shares them.
    /// </summary>
    private async ValueTask<(string? AccessToken, UpstreamError Error)> MachineTokenAsync(string server, Model.RemoteServerModel remote, Model.RemoteOAuthModel machine,
        UpstreamConnection? stored, Entry entry, CancellationToken cancellationToken)
    {
        var authorization = stored?.Authorization;
        if (authorization is null)
        {
            (authorization, var discoveryError) = await AuthorizationDiscovery.DiscoverAsync(_http, remote.Url, cancellationToken).ConfigureAwait(false);
            if (authorization is null)
            {
                return (null, UpstreamError.Unavailable($"cannot find how '{server}' is authorized: {discoveryError}"));
            }
        }

        // The configuration requires the client of a machine connection (client_id and client_secret).
        var client = UpstreamOAuthClient.Configured(authorization, machine.ClientId!, machine.ClientSecret);
        var (tokens, error) = await UpstreamOAuthClient.ClientCredentialsAsync(_http, authorization, client, machine.Scope, cancellationToken).ConfigureAwait(false);
        if (tokens is null)
        {
            Log.RefreshFailed(_logger, server, error ?? "no answer");
            entry.Connection = null;
            return (null, new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' refused the gateway's client credentials ({error})"));
        }

        var connection = new UpstreamConnection(authorization, client, tokens);
        Save(server, connection);
        entry.Connection = connection;
        Log.Refreshed(_logger, server);
        return (tokens.AccessToken, UpstreamError.None);
    }

    /// <summary>Drops what is held for <paramref name="server"/> (after a revocation): the next call reads the store.</summary>
    public void Forget(string server) => _entries.TryRemove(server, out _);

    public UpstreamConnection? Load(string server)
    {
        var row = _repository.Get(server, UpstreamConnection.Organisation);
        return row is null || _vault.Open(server, row.Owner, row.Sealed) is not { } plaintext ? null : UpstreamConnection.Deserialize(plaintext);
    }

    public void Save(string server, UpstreamConnection connection)
        => _repository.Put(server, UpstreamConnection.Organisation, _vault.Seal(server, UpstreamConnection.Organisation, connection.Serialize()), _time.GetUtcNow());

    private static UpstreamError Missing(string server)
        => new(UpstreamErrorKind.CredentialMissing, $"server '{server}' needs an OAuth connection, and none is made; an administrator connects it with: archestra-edge connections connect {server}");

    private sealed class Entry
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public volatile UpstreamConnection? Connection;

        public DateTimeOffset ReadAt;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ConnectionRefreshed, LogLevel.Information, "Refreshed the OAuth connection of upstream '{Server}'")]
        public static partial void Refreshed(ILogger logger, string server);

        [LoggerMessage(Observability.EventIds.ConnectionRefreshFailed, LogLevel.Warning, "The OAuth connection of upstream '{Server}' could not be refreshed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string server, string reason);
    }
}

/// <summary>Where connections are kept: the state store's table, and the vault that seals its rows.</summary>
internal sealed record ConnectionStore(IConnectionRepository Repository, ConnectionVault Vault);

/// <summary>One remote server's view of the connections: what its HTTP session puts in <c>Authorization</c>.</summary>
internal sealed class ConnectionBearer(UpstreamConnections? connections, string server, Model.RemoteServerModel? remote = null)
{
    /// <summary>For a gateway without a connection store (in-process hosts): every call says so.</summary>
    public static readonly ConnectionBearer Unavailable = new(null, string.Empty);

    /// <summary>The token the latest <see cref="EnsureAsync"/> gave (used by the session's GET streams).</summary>
    public string? Current { get; private set; }

    public async ValueTask<UpstreamError> EnsureAsync(string? rejected, CancellationToken cancellationToken)
    {
        if (connections is null)
        {
            return new UpstreamError(UpstreamErrorKind.CredentialMissing, "this gateway keeps no OAuth connections (no state store)");
        }

        var (token, error) = await connections.AccessTokenAsync(server, rejected, cancellationToken, remote).ConfigureAwait(false);
        Current = token;
        return error;
    }
}
