using System.Collections.Concurrent;
using System.Collections.Frozen;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>
/// The gateway's live view of its OAuth connections: which exist (read again every two seconds, so a caller's new
/// connection is used at once), whose a caller uses, and the access token each (server, owner) is called with, opened
/// from the state store on first use and kept in memory, refreshed (single-flight per connection) shortly before it expires or when
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

    /// <summary>The base URL of the connect page named in errors (<c>server.public_url</c>, else the listen address); set at each (re)load.</summary>
    public Func<string> ConnectBase { get; set; } = static () => "http://localhost";

    /// <summary>Where a user connects (or reconnects, with a wider <paramref name="scope"/>) their account to <paramref name="server"/>.</summary>
    public string ConnectUrl(string server, string? scope = null)
        => $"{ConnectBase()}/connect?server={Uri.EscapeDataString(server)}{(scope is null ? string.Empty : $"&scope={Uri.EscapeDataString(scope)}")}";

    /// <summary>
    /// Whose connection <paramref name="caller"/> uses for <paramref name="server"/>, in the configured order: their own,
    /// their team's (the first of their teams that has one), the organisation's. Null with the error when none exists.
    /// </summary>
    public (string? Owner, UpstreamError Error) OwnerFor(string server, RemoteOAuthModel oauth, Principal caller)
    {
        var index = Index();
        foreach (var kind in oauth.Owners)
        {
            switch (kind)
            {
                case ConnectionOwner.User when caller.Kind == PrincipalKind.User && index.Contains(Key(server, ConnectionOwner.OfUser(caller.Id))):
                    return (ConnectionOwner.OfUser(caller.Id), UpstreamError.None);
                case ConnectionOwner.Team when caller.Kind == PrincipalKind.Team && index.Contains(Key(server, ConnectionOwner.OfTeam(caller.Id))):
                    return (ConnectionOwner.OfTeam(caller.Id), UpstreamError.None);
                case ConnectionOwner.Team when caller.Kind == PrincipalKind.User:
                    foreach (var team in caller.Teams)
                    {
                        if (index.Contains(Key(server, ConnectionOwner.OfTeam(team))))
                        {
                            return (ConnectionOwner.OfTeam(team), UpstreamError.None);
                        }
                    }

                    break;
                case ConnectionOwner.Org when index.Contains(Key(server, ConnectionOwner.Org)):
                    return (ConnectionOwner.Org, UpstreamError.None);
            }
        }

        return (null, Missing(server, oauth, caller));
    }

    /// <summary>The connection the server's tools are listed with (no caller): the organisation's, else a team's, else a user's (in name order).</summary>
    public (string? Owner, UpstreamError Error) OwnerForCatalog(string server, RemoteOAuthModel oauth)
    {
        var index = Index();
        var prefix = $"{server}\n";
        string? First(string kind) => index.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.AsSpan(prefix.Length).StartsWith($"{kind}:", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(k => k[prefix.Length..]).FirstOrDefault();
        var owner = oauth.Owners.Contains(ConnectionOwner.Org) && index.Contains(Key(server, ConnectionOwner.Org)) ? ConnectionOwner.Org
            : (oauth.Owners.Contains(ConnectionOwner.Team) ? First(ConnectionOwner.Team) : null)
              ?? (oauth.Owners.Contains(ConnectionOwner.User) ? First(ConnectionOwner.User) : null);
        return owner is null
            ? (null, new UpstreamError(UpstreamErrorKind.CredentialMissing,
                $"server '{server}' needs an OAuth connection, and none is made yet; an administrator connects it with: archestra-edge connections connect {server}"
                + (oauth.Owners.Contains(ConnectionOwner.User) ? $"; or each user at {ConnectUrl(server)}" : string.Empty)))
            : (owner, UpstreamError.None);
    }

    /// <summary>The access token to call <paramref name="server"/> with now; <paramref name="rejected"/> is one the server just refused.</summary>
    public async ValueTask<(string? AccessToken, UpstreamError Error)> AccessTokenAsync(string server, string owner, string? rejected, CancellationToken cancellationToken,
        RemoteServerModel? remote = null)
    {
        var entry = _entries.GetOrAdd(Key(server, owner), static _ => new Entry());
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
            var stored = Load(server, owner);
            entry.ReadAt = _time.GetUtcNow();
            if (remote?.OAuth is { ClientCredentials: true } machine && owner == ConnectionOwner.Org
                && (stored is null || stored.Tokens.AccessToken == rejected || stored.ExpiresWithin(_time.GetUtcNow(), s_margin)))
            {
                return await MachineTokenAsync(server, remote, machine, stored, entry, cancellationToken).ConfigureAwait(false);
            }

            if (stored is null)
            {
                entry.Connection = null;
                return (null, Gone(server, owner));
            }

            if (stored.Tokens.AccessToken != rejected && !stored.ExpiresWithin(_time.GetUtcNow(), s_margin))
            {
                entry.Connection = stored;
                return (stored.Tokens.AccessToken, UpstreamError.None);
            }

            if (stored.Tokens.RefreshToken is not { } refresh)
            {
                entry.Connection = null;
                return (null, Reconnect(server, owner, "has expired and cannot be refreshed"));
            }

            var (tokens, error) = await UpstreamOAuthClient.RefreshAsync(_http, stored.Authorization, stored.Client, refresh, cancellationToken).ConfigureAwait(false);
            if (tokens is null)
            {
                Log.RefreshFailed(_logger, server, owner, error ?? "no answer");
                entry.Connection = null;
                return (null, Reconnect(server, owner, $"was refused by its authorization server ({error})"));
            }

            var renewed = stored with { Tokens = tokens };
            Save(server, owner, renewed);
            entry.Connection = renewed;
            Log.Refreshed(_logger, server, owner);
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
    private async ValueTask<(string? AccessToken, UpstreamError Error)> MachineTokenAsync(string server, RemoteServerModel remote, RemoteOAuthModel machine,
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
            Log.RefreshFailed(_logger, server, ConnectionOwner.Org, error ?? "no answer");
            entry.Connection = null;
            return (null, new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' refused the gateway's client credentials ({error})"));
        }

        var connection = new UpstreamConnection(authorization, client, tokens);
        Save(server, ConnectionOwner.Org, connection);
        entry.Connection = connection;
        Log.Refreshed(_logger, server, ConnectionOwner.Org);
        return (tokens.AccessToken, UpstreamError.None);
    }

    /// <summary>
    /// The server wants a wider scope than the connection has (<c>insufficient_scope</c>): nothing the gateway can do
    /// by itself; the owner connects again, asked for the scope the server named as well as what it has.
    /// </summary>
    public UpstreamError StepUp(string server, string owner, string? required)
    {
        var granted = _entries.TryGetValue(Key(server, owner), out var entry) ? entry.Connection?.Tokens.Scope : null;
        var wanted = string.Join(' ', (granted ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Union((required ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal));
        var why = $"needs more access than the connection grants{(required is null ? string.Empty : $" (scope: {required})")}";
        return owner.StartsWith("user:", StringComparison.Ordinal)
            ? new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' {why}; connect it again at {ConnectUrl(server, wanted.Length == 0 ? null : wanted)}")
            {
                ConnectUrl = ConnectUrl(server, wanted.Length == 0 ? null : wanted),
            }
            : new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' {why}; an administrator connects it again: archestra-edge connections connect {server}{OwnerFlag(owner)}{(wanted.Length == 0 ? string.Empty : $" --scope \"{wanted}\"")}");
    }

    /// <summary>Drops what is held for a connection (after it is revoked or replaced here): the next call reads the store, and the index is read again.</summary>
    public void Forget(string server, string owner)
    {
        _entries.TryRemove(Key(server, owner), out _);
        _index = null;
    }

    /// <summary>The vault that seals connections (the connect page seals its cookies with it too, under purposes of their own).</summary>
    public ConnectionVault Vault => _vault;

    /// <summary>The bounded client for authorization servers (discovery, registration, tokens, revocation).</summary>
    public HttpClient Http => _http;

    /// <summary>Every connection, described without its tokens.</summary>
    public IReadOnlyList<Contracts.ConnectionInfo> Describe() => [.. _repository.List().Select(row => ConnectionRemoval.Describe(row, _vault))];

    /// <summary>Revokes a connection's tokens at its authorization server (RFC 7009, best effort) and forgets it here.</summary>
    public async Task<(bool Found, string? Problem)> RemoveAsync(string server, string owner, CancellationToken cancellationToken)
    {
        var result = await ConnectionRemoval.RemoveAsync(_http, _repository, _vault, server, owner, cancellationToken).ConfigureAwait(false);
        Forget(server, owner);
        return result;
    }

    public UpstreamConnection? Load(string server, string owner)
    {
        var row = _repository.Get(server, owner);
        return row is null || _vault.Open(server, row.Owner, row.Sealed) is not { } plaintext ? null : UpstreamConnection.Deserialize(plaintext);
    }

    /// <summary>Keeps a connection (new, renewed or refreshed) and makes it the one in use at once.</summary>
    public void Save(string server, string owner, UpstreamConnection connection)
    {
        _repository.Put(server, owner, _vault.Seal(server, owner, connection.Serialize()), _time.GetUtcNow());
        if (_entries.TryGetValue(Key(server, owner), out var entry))
        {
            entry.Connection = connection;
        }

        if (_index is { } index && !index.Keys.Contains(Key(server, owner)))
        {
            _index = null;
        }
    }

    /// <summary>The (server, owner) pairs that have a connection, read again when two seconds old (by one caller; the others use what was read).</summary>
    private FrozenSet<string> Index()
    {
        var index = _index;
        var now = _time.GetTimestamp();
        if (index is not null && _time.GetElapsedTime(index.ReadAt, now) < s_reread)
        {
            return index.Keys;
        }

        if (index is not null && Interlocked.Exchange(ref _indexing, 1) == 1)
        {
            return index.Keys;
        }

        try
        {
            var keys = _repository.Owners().Select(static o => Key(o.Server, o.Owner)).ToFrozenSet(StringComparer.Ordinal);
            _index = new OwnerIndex(keys, now);
            return keys;
        }
        catch (Exception ex) when (index is not null && ex is not OutOfMemoryException)
        {
            // The store is unreachable for a moment (a fleet's database): what was read stays in use.
            return index.Keys;
        }
        finally
        {
            Volatile.Write(ref _indexing, 0);
        }
    }

    private static string Key(string server, string owner) => $"{server}\n{owner}";

    private static string OwnerFlag(string owner) => owner == ConnectionOwner.Org ? string.Empty : $" --owner {owner}";

    private UpstreamError Missing(string server, RemoteOAuthModel oauth, Principal caller)
        => caller.Kind == PrincipalKind.User && oauth.Owners.Contains(ConnectionOwner.User)
            ? new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' needs your account: connect it at {ConnectUrl(server)}") { ConnectUrl = ConnectUrl(server) }
            : new UpstreamError(UpstreamErrorKind.CredentialMissing,
                $"server '{server}' needs an OAuth connection, and {caller.Name} has none to use; an administrator connects it with: archestra-edge connections connect {server}");

    private UpstreamError Gone(string server, string owner)
        => owner.StartsWith("user:", StringComparison.Ordinal)
            ? new UpstreamError(UpstreamErrorKind.CredentialMissing, $"server '{server}' needs your account: connect it at {ConnectUrl(server)}") { ConnectUrl = ConnectUrl(server) }
            : new UpstreamError(UpstreamErrorKind.CredentialMissing,
                $"server '{server}' needs an OAuth connection, and none is made; an administrator connects it with: archestra-edge connections connect {server}{OwnerFlag(owner)}");

    private UpstreamError Reconnect(string server, string owner, string why)
        => owner.StartsWith("user:", StringComparison.Ordinal)
            ? new UpstreamError(UpstreamErrorKind.CredentialMissing, $"your connection of server '{server}' {why}; connect it again at {ConnectUrl(server)}") { ConnectUrl = ConnectUrl(server) }
            : new UpstreamError(UpstreamErrorKind.CredentialMissing,
                $"the connection of server '{server}' {why}; connect it again: archestra-edge connections connect {server}{OwnerFlag(owner)}");

    private sealed record OwnerIndex(FrozenSet<string> Keys, long ReadAt);

    private volatile OwnerIndex? _index;
    private int _indexing;

    private sealed class Entry
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public volatile UpstreamConnection? Connection;

        public DateTimeOffset ReadAt;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ConnectionRefreshed, LogLevel.Information, "Refreshed the OAuth connection of upstream '{Server}' ({Owner})")]
        public static partial void Refreshed(ILogger logger, string server, string owner);

        [LoggerMessage(Observability.EventIds.ConnectionRefreshFailed, LogLevel.Warning, "The OAuth connection of upstream '{Server}' ({Owner}) could not be refreshed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string server, string owner, string reason);
    }
}

/// <summary>Where connections are kept: the state store's table, and the vault that seals its rows.</summary>
internal sealed record ConnectionStore(IConnectionRepository Repository, ConnectionVault Vault);

/// <summary>One remote server's session's view of its connection: what it puts in <c>Authorization</c>.</summary>
internal sealed class ConnectionBearer(UpstreamConnections? connections, string server, RemoteServerModel? remote = null)
{
    /// <summary>For a gateway without a connection store (in-process hosts): every call says so.</summary>
    public static readonly ConnectionBearer Unavailable = new(null, string.Empty);

    private readonly string _owner = remote?.OAuth?.Owner ?? ConnectionOwner.Org;

    /// <summary>The token the latest <see cref="EnsureAsync"/> gave (used by the session's GET streams).</summary>
    public string? Current { get; private set; }

    public async ValueTask<UpstreamError> EnsureAsync(string? rejected, CancellationToken cancellationToken)
    {
        if (connections is null)
        {
            return new UpstreamError(UpstreamErrorKind.CredentialMissing, "this gateway keeps no OAuth connections (no state store)");
        }

        var (token, error) = await connections.AccessTokenAsync(server, _owner, rejected, cancellationToken, remote).ConfigureAwait(false);
        Current = token;
        return error;
    }

    /// <summary>The server answered 403 <c>insufficient_scope</c>, naming <paramref name="scope"/>: the owner is asked to connect again.</summary>
    public UpstreamError StepUp(string? scope)
        => connections?.StepUp(server, _owner, scope) ?? new UpstreamError(UpstreamErrorKind.CredentialMissing, "this gateway keeps no OAuth connections (no state store)");
}
