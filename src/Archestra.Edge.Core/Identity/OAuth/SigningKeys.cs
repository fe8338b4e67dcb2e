using System.Security.Cryptography;
using System.Text.Json;
using Archestra.Edge.Identity.Jwt;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>
/// The built-in authorization server's signing keys, kept in its <see cref="ISigningKeyRepository"/>. The newest one signs; retired keys stay in
/// the published JWKS until every token they signed has expired, so a rotation never breaks a client. The store may be
/// shared by a fleet: the first key is created only if none is active (instances starting together agree on one), a
/// token naming an unknown key re-reads the store (at most once a second), and the active key is re-read every
/// <see cref="RecheckInterval"/>, so another instance's rotation is followed.
/// </summary>
internal sealed partial class SigningKeys : IDisposable
{
    private readonly ISigningKeyRepository _repository;
    private readonly string _algorithm;
    private readonly TimeSpan _tokenLifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(30);
    private volatile Snapshot _snapshot;
    private long _loadedAt;

    public SigningKeys(ISigningKeyRepository repository, string algorithm, TimeSpan tokenLifetime, TimeProvider time, ILogger logger)
    {
        _repository = repository;
        _algorithm = algorithm;
        _tokenLifetime = tokenLifetime;
        _time = time;
        _logger = logger;
        _snapshot = Load();
        _loadedAt = time.GetTimestamp();
        if (_snapshot.Active is null || _snapshot.Active.Algorithm != algorithm)
        {
            Rotate(onlyIfNone: true);
        }
    }

    /// <summary>The key new tokens are signed with.</summary>
    public JsonWebKey Active
    {
        get
        {
            RecheckIfDue();
            return _snapshot.Active!;
        }
    }

    /// <summary>A key that may have signed a token still valid: the active one or a recently retired one (another instance's new key too).</summary>
    public JsonWebKey? Find(string? kid)
    {
        if (kid is null)
        {
            return null;
        }

        if (_snapshot.ByKid.TryGetValue(kid, out var key))
        {
            return key;
        }

        // Perhaps another instance rotated: re-read, at most once a second however many unknown kids arrive.
        if (_time.GetTimestamp() - Interlocked.Read(ref _loadedAt) < _time.TimestampFrequency)
        {
            return null;
        }

        Reload();
        return _snapshot.ByKid.GetValueOrDefault(kid);
    }

    /// <summary>Creates a new active key; the previous one is retired (still published until its tokens expire).</summary>
    public string Rotate() => Rotate(onlyIfNone: false);

    private string Rotate(bool onlyIfNone)
    {
        lock (_lock)
        {
            var kid = $"{_algorithm.ToLowerInvariant()}-{_time.GetUtcNow():yyyyMMdd}-{Utilities.SecureRandom.HexString(4)}";
            byte[] privateKey;
            if (_algorithm == "RS256")
            {
                using var rsa = RSA.Create(2048);
                privateKey = rsa.ExportPkcs8PrivateKey();
            }
            else
            {
                using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                privateKey = ec.ExportPkcs8PrivateKey();
            }

            var created = true;
            if (onlyIfNone)
            {
                created = _repository.CreateIfNoneActive(kid, _algorithm, privateKey, _time.GetUtcNow());
            }
            else
            {
                _repository.Rotate(kid, _algorithm, privateKey, _time.GetUtcNow());
            }

            CryptographicOperations.ZeroMemory(privateKey);
            ReloadLocked();
            if (!created)
            {
                return _snapshot.Active!.Kid;
            }

            Log.KeyCreated(_logger, kid, _algorithm);
            return kid;
        }
    }

    private void RecheckIfDue()
    {
        if (_time.GetTimestamp() - Interlocked.Read(ref _loadedAt) > (long)(RecheckInterval.TotalSeconds * _time.TimestampFrequency))
        {
            Reload();
        }
    }

    private void Reload()
    {
        try
        {
            lock (_lock)
            {
                ReloadLocked();
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The store is unreachable: keep signing and verifying with the keys known; try again at the next interval.
            Interlocked.Exchange(ref _loadedAt, _time.GetTimestamp());
            Log.ReloadFailed(_logger, ex.Message);
        }
    }

    /// <summary>Re-reads the keys, keeping the objects of those already loaded (in use by other threads) and disposing those gone.</summary>
    private void ReloadLocked()
    {
        var previous = _snapshot;
        _snapshot = Load(previous);
        Interlocked.Exchange(ref _loadedAt, _time.GetTimestamp());
        foreach (var (retiredKid, key) in previous.ByKid)
        {
            if (!_snapshot.ByKid.ContainsKey(retiredKid))
            {
                key.Dispose();
            }
        }
    }

    /// <summary>The JWKS document: the public parts of every key that may have signed a valid token.</summary>
    public byte[] JwksJson()
    {
        RecheckIfDue();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("keys");
            foreach (var key in _snapshot.ByKid.Values)
            {
                key.WritePublic(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public void Dispose()
    {
        foreach (var key in _snapshot.ByKid.Values)
        {
            key.Dispose();
        }
    }

    private Snapshot Load(Snapshot? previous = null)
    {
        var keys = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
        JsonWebKey? active = null;
        foreach (var stored in _repository.Load(_time.GetUtcNow() - (_tokenLifetime + JsonWebToken.ClockSkew)))
        {
            var (kid, algorithm, material) = (stored.Kid, stored.Algorithm, stored.PrivateKey);
            JsonWebKey key;
            if (previous is not null && previous.ByKid.TryGetValue(kid, out var known))
            {
                key = known;
            }
            else if (algorithm == "RS256")
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(material, out _);
                key = JsonWebKey.ForRsa(kid, rsa);
            }
            else
            {
                var ec = ECDsa.Create();
                ec.ImportPkcs8PrivateKey(material, out _);
                key = JsonWebKey.ForEc(kid, ec);
            }

            CryptographicOperations.ZeroMemory(material);
            keys[kid] = key;
            if (stored.RetiredAt is null)
            {
                active = key;
            }
        }

        return new Snapshot(active, keys);
    }

    private sealed record Snapshot(JsonWebKey? Active, Dictionary<string, JsonWebKey> ByKid);

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.SigningKeyCreated, LogLevel.Information, "Created signing key {Kid} ({Algorithm}) for the built-in authorization server")]
        public static partial void KeyCreated(ILogger logger, string kid, string algorithm);

        [LoggerMessage(Observability.EventIds.SigningKeysReloaded, LogLevel.Warning, "Cannot re-read the signing keys ({Reason}); keeping the ones known")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}
