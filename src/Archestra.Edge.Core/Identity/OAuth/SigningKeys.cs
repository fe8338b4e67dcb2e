using System.Security.Cryptography;
using System.Text.Json;
using Archestra.Edge.Identity.Jwt;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>
/// The built-in authorization server's signing keys, kept in its <see cref="ISigningKeyRepository"/>. The newest one signs; retired keys stay in
/// the published JWKS until every token they signed has expired, so a rotation never breaks a client.
/// </summary>
internal sealed partial class SigningKeys : IDisposable
{
    private readonly ISigningKeyRepository _repository;
    private readonly string _algorithm;
    private readonly TimeSpan _tokenLifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private volatile Snapshot _snapshot;

    public SigningKeys(ISigningKeyRepository repository, string algorithm, TimeSpan tokenLifetime, TimeProvider time, ILogger logger)
    {
        _repository = repository;
        _algorithm = algorithm;
        _tokenLifetime = tokenLifetime;
        _time = time;
        _logger = logger;
        _snapshot = Load();
        if (_snapshot.Active is null || _snapshot.Active.Algorithm != algorithm)
        {
            Rotate();
        }
    }

    /// <summary>The key new tokens are signed with.</summary>
    public JsonWebKey Active => _snapshot.Active!;

    /// <summary>A key that may have signed a token still valid: the active one or a recently retired one.</summary>
    public JsonWebKey? Find(string? kid) => kid is not null && _snapshot.ByKid.TryGetValue(kid, out var key) ? key : null;

    /// <summary>Creates a new active key; the previous one is retired (still published until its tokens expire).</summary>
    public string Rotate()
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

            _repository.Rotate(kid, _algorithm, privateKey, _time.GetUtcNow());
            CryptographicOperations.ZeroMemory(privateKey);
            var previous = _snapshot;
            _snapshot = Load();
            foreach (var (retiredKid, key) in previous.ByKid)
            {
                if (!_snapshot.ByKid.ContainsKey(retiredKid))
                {
                    key.Dispose();
                }
            }

            Log.KeyCreated(_logger, kid, _algorithm);
            return kid;
        }
    }

    /// <summary>The JWKS document: the public parts of every key that may have signed a valid token.</summary>
    public byte[] JwksJson()
    {
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

    private Snapshot Load()
    {
        var keys = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
        JsonWebKey? active = null;
        foreach (var stored in _repository.Load(_time.GetUtcNow() - (_tokenLifetime + JsonWebToken.ClockSkew)))
        {
            var (kid, algorithm, material) = (stored.Kid, stored.Algorithm, stored.PrivateKey);
            JsonWebKey key;
            if (algorithm == "RS256")
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
    }
}
