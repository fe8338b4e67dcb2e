using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Security.Cryptography;
using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity;

/// <summary>A bearer token, as stored: never the secret, only its SHA-256.</summary>
internal sealed record TokenRecord(
    string Id,
    string Name,
    byte[] Hash,
    TokenScope Scope,
    ImmutableArray<string> Profiles,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    bool Declared);

/// <summary>
/// The <c>archestra_…</c> tokens: those declared in the config (by hash) and those created at run time (SQLite, or a
/// fleet's PostgreSQL). Requests are checked against an in-memory index (SHA-256 of the presented token, then a
/// constant-time compare), never the database, swapped whole when tokens change: at once for changes made through
/// this store, when notified for changes another instance commits to PostgreSQL, and within a second (the poll) for
/// changes another process (the <c>token</c> or <c>grants</c> command) commits to SQLite. The store also holds the
/// revoked OAuth grants whose access tokens may still be unexpired, so those are refused the same way.
/// </summary>
internal sealed partial class TokenStore : IDisposable
{
    private readonly ITokenRepository? _repository;
    private ImmutableArray<DeclaredToken> _declared;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly ITimer? _timer;
    private readonly IDisposable? _watch;
    private long _dataVersion = -1;
    private volatile FrozenDictionary<HashKey, TokenRecord> _index = FrozenDictionary<HashKey, TokenRecord>.Empty;
    private volatile FrozenSet<string> _revokedGrants = FrozenSet<string>.Empty;

    /// <param name="repository">Where issued tokens are kept; null: declared tokens only.</param>
    /// <param name="watch">Whether to poll the repository for changes other processes make (a gateway does; a CLI command does not).</param>
    public TokenStore(ITokenRepository? repository, ImmutableArray<DeclaredToken> declared, TimeProvider time, ILogger logger, bool watch = true)
    {
        _repository = repository;
        _declared = declared;
        _time = time;
        _logger = logger;
        if (repository is not null && watch)
        {
            _timer = time.CreateTimer(static state => ((TokenStore)state!).ReloadIfChanged(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

        Reload();
        if (_timer is not null)
        {
            // A store that can tell (PostgreSQL) calls back at once: another instance's revocation counts here in the
            // time of a notification; the poll stays as the safety net.
            _watch = repository!.WatchChanges(ReloadIfChanged);
        }
    }

    /// <summary>The active token whose SHA-256 is <paramref name="hash"/>, if any (not revoked; expiry is the caller's check).</summary>
    public bool TryFind(ReadOnlySpan<byte> hash, out TokenRecord? record)
    {
        if (_index.TryGetValue(HashKey.From(hash), out record) && CryptographicOperations.FixedTimeEquals(record.Hash, hash))
        {
            return true;
        }

        record = null;
        return false;
    }

    /// <summary>Whether the built-in authorization server's grant <paramref name="grant"/> was revoked (its access tokens no longer count).</summary>
    public bool IsGrantRevoked(string grant)
    {
        var revoked = _revokedGrants;
        return revoked.Count != 0 && revoked.Contains(grant);
    }

    /// <summary>Re-reads tokens and revoked grants now (after this process changed them), rather than within a second.</summary>
    public void Refresh() => Reload();

    /// <summary>Creates a token; its secret is returned once and never stored.</summary>
    public (TokenRecord Record, string Secret) Create(string name, TokenScope scope, ImmutableArray<string> profiles, DateTimeOffset? expires)
    {
        var repository = _repository ?? throw new InvalidOperationException("tokens can only be created with a data directory");
        var secret = TokenSecrets.NewToken();
        var now = _time.GetUtcNow();
        var record = new TokenRecord($"tok_{Utilities.SecureRandom.HexString(8)}", name, TokenSecrets.Hash(secret), scope, profiles, now, expires, null, Declared: false);
        repository.Add(record);
        Reload();
        return (record, secret);
    }

    /// <summary>Revokes the token with this id (or, if unique, name). Takes effect here at once. False if none matched.</summary>
    public bool Revoke(string idOrName)
    {
        if (_repository is null)
        {
            return false;
        }

        var changed = _repository.Revoke(idOrName, _time.GetUtcNow());
        Reload();
        return changed;
    }

    /// <summary>A reloaded config declares these tokens now: the index is rebuilt at once (a token removed from the file stops working).</summary>
    public void ReplaceDeclared(ImmutableArray<DeclaredToken> declared)
    {
        lock (_lock)
        {
            _declared = declared;
        }

        Reload();
    }

    /// <summary>Every token: declared ones and created ones (revoked included), oldest first.</summary>
    public List<TokenRecord> List()
    {
        var result = new List<TokenRecord>();
        foreach (var token in _declared)
        {
            result.Add(FromDeclared(token));
        }

        result.AddRange(LoadFromDatabase());
        return result;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _watch?.Dispose();
        _repository?.Dispose();
    }

    private void ReloadIfChanged()
    {
        try
        {
            var version = _repository!.ChangeVersion();
            if (version != Interlocked.Read(ref _dataVersion))
            {
                Reload();
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            Log.ReloadFailed(_logger, ex.Message);
        }
    }

    private void Reload()
    {
        lock (_lock)
        {
            if (_timer is not null)
            {
                Interlocked.Exchange(ref _dataVersion, _repository!.ChangeVersion());
            }

            var index = new Dictionary<HashKey, TokenRecord>();
            foreach (var token in _declared)
            {
                index[HashKey.From(token.Hash)] = FromDeclared(token);
            }

            foreach (var token in LoadFromDatabase())
            {
                if (token.RevokedAt is null)
                {
                    index[HashKey.From(token.Hash)] = token;
                }
            }

            _index = index.ToFrozenDictionary();
            _revokedGrants = LoadRevokedGrants();
        }
    }

    private FrozenSet<string> LoadRevokedGrants()
    {
        var grants = _repository?.RevokedGrants(_time.GetUtcNow());
        return grants is null or { Count: 0 } ? FrozenSet<string>.Empty : grants.ToFrozenSet(StringComparer.Ordinal);
    }

    private IReadOnlyList<TokenRecord> LoadFromDatabase() => _repository?.LoadAll() ?? [];

    private static TokenRecord FromDeclared(DeclaredToken token)
        => new($"config:{token.Name}", token.Name, token.Hash, token.Scope, token.Profiles, DateTimeOffset.UnixEpoch, token.Expires, null, Declared: true);

    /// <summary>A SHA-256 as a dictionary key (four machine words: no allocation to look one up).</summary>
    private readonly record struct HashKey(ulong A, ulong B, ulong C, ulong D)
    {
        public static HashKey From(ReadOnlySpan<byte> hash) => hash.Length != 32
            ? default
            : new(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]), BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.TokenReloadFailed, LogLevel.Warning, "Cannot reload tokens from the database: {Reason}")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}
