using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>An authorization request waiting for the user at the login and consent page.</summary>
/// <param name="Id">The sealed request itself: the consent form carries it, the gateway keeps nothing.</param>
/// <param name="Csrf">The nonce the form field and the HttpOnly cookie must both carry.</param>
internal sealed record PendingAuthorization(
    string Id,
    string Csrf,
    string ClientId,
    string? ClientName,
    string RedirectUri,
    string CodeChallenge,
    string? State,
    string Resource,
    string Profile,
    string? Scope,
    DateTimeOffset ExpiresAt);

/// <summary>
/// Authorization requests between <c>GET /oauth/authorize</c> and the consent form's POST, kept by the browser, not
/// by the gateway: the request is sealed (HMAC-SHA256 under a key of this process, or the fleet's) into the form, with its expiry
/// and a CSRF nonce that the HttpOnly cookie carries too. An unauthenticated client can therefore make the gateway
/// render as many consent pages as it likes without growing any table. The only state is the nonces of approved
/// forms (so an approval cannot be replayed): one entry per sign-in by a valid user token, at most
/// <see cref="MaxUsedNonces"/> and each dropped when its form expires.
/// </summary>
internal sealed class PendingAuthorizations
{
    internal const int MaxUsedNonces = 10_000;
    private static readonly TimeSpan s_lifetime = TimeSpan.FromMinutes(10);

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly Utilities.UsedNonces _used;

    /// <param name="key">The sealing key: a fleet's shared one, or null for one of this process.</param>
    public PendingAuthorizations(TimeProvider time, byte[]? key = null)
    {
        _key = key ?? RandomNumberGenerator.GetBytes(32);
        _time = time;
        _used = new Utilities.UsedNonces(MaxUsedNonces, time);
    }

    public static TimeSpan Lifetime => s_lifetime;

    public PendingAuthorization Begin(string clientId, string? clientName, string redirectUri, string challenge, string? state, string resource, string profile, string? scope)
    {
        var nonce = Utilities.SecureRandom.HexString(16);
        var expires = _time.GetUtcNow() + s_lifetime;
        var payload = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("n", nonce);
            writer.WriteNumber("e", expires.ToUnixTimeSeconds());
            writer.WriteString("c", clientId);
            WriteOptional(writer, "cn", clientName);
            writer.WriteString("r", redirectUri);
            writer.WriteString("ch", challenge);
            WriteOptional(writer, "s", state);
            writer.WriteString("rs", resource);
            writer.WriteString("p", profile);
            WriteOptional(writer, "sc", scope);
            writer.WriteEndObject();
        }

        var sealedId = Base64Url.EncodeToString(payload.WrittenSpan) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload.WrittenSpan));
        return new PendingAuthorization(sealedId, nonce, clientId, clientName, redirectUri, challenge, state, resource, profile, scope, expires);
    }

    /// <summary>
    /// Opens a submitted form: the seal must verify, the request must not have expired, and the form's and the
    /// cookie's CSRF values must both equal the sealed nonce. Null otherwise.
    /// </summary>
    public PendingAuthorization? Open(string sealedId, string csrfField, string? csrfCookie)
    {
        var dot = sealedId.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || csrfCookie is null || sealedId.Length > 64 * 1024)
        {
            return null;
        }

        byte[] payload, mac;
        try
        {
            payload = Base64Url.DecodeFromChars(sealedId.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(sealedId.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload), mac))
        {
            return null;
        }

        PendingAuthorization pending;
        using (var document = JsonDocument.Parse(payload))
        {
            var root = document.RootElement;
            string? Optional(string name) => root.TryGetProperty(name, out var value) ? value.GetString() : null;
            pending = new PendingAuthorization(sealedId, root.GetProperty("n").GetString()!, root.GetProperty("c").GetString()!, Optional("cn"),
                root.GetProperty("r").GetString()!, root.GetProperty("ch").GetString()!, Optional("s"), root.GetProperty("rs").GetString()!,
                root.GetProperty("p").GetString()!, Optional("sc"), DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("e").GetInt64()));
        }

        if (pending.ExpiresAt < _time.GetUtcNow() || !FixedEquals(pending.Csrf, csrfField) || !FixedEquals(pending.Csrf, csrfCookie))
        {
            return null;
        }

        return _used.Contains(pending.Csrf) ? null : pending;
    }

    /// <summary>Records an approved form, so the same form cannot approve twice.</summary>
    public bool MarkUsed(PendingAuthorization pending) => _used.TryUse(pending.Csrf, pending.ExpiresAt);

    internal int UsedCount => _used.Count;

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static bool FixedEquals(string a, string b)
        => CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}
