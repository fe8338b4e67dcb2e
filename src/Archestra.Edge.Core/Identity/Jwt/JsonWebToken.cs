using System.Buffers;
using System.Buffers.Text;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Identity.Jwt;

/// <summary>Why a JWT was refused (never echoed to clients in detail; logged without the token).</summary>
internal enum JwtError
{
    None,
    Malformed,
    AlgorithmNotAllowed,
    UnknownKey,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    NotYetValid,
}

/// <summary>The claims of a verified token that the gateway uses.</summary>
internal sealed record JwtClaims(string Issuer, string Subject, ImmutableArray<string> Audiences, DateTimeOffset ExpiresAt, JsonElement Payload);

/// <summary>
/// Compact JWS (RFC 7515) for JWT access tokens: parse, verify (RS256 and ES256 only, the algorithm must be on the
/// allow-list and match the key: no <c>none</c>, no HMAC, no algorithm confusion), check <c>iss</c>, <c>aud</c>,
/// <c>exp</c> and <c>nbf</c> with a bounded clock skew; and sign the built-in server's tokens. Cryptography is the BCL's.
/// </summary>
internal static class JsonWebToken
{
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>The header's <c>alg</c> and <c>kid</c>, if the token has the shape of a JWS.</summary>
    public static bool TryReadHeader(string token, out string? algorithm, out string? kid)
    {
        algorithm = kid = null;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || token.IndexOf('.', dot + 1) < 0)
        {
            return false;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(token.AsSpan(0, dot)));
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            algorithm = header.RootElement.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String ? alg.GetString() : null;
            kid = header.RootElement.TryGetProperty("kid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Verifies <paramref name="token"/> with <paramref name="key"/> and checks its claims.</summary>
    public static JwtError Validate(string token, JsonWebKey key, ImmutableArray<string> allowedAlgorithms, string issuer,
        Func<string, bool> audienceAccepted, DateTimeOffset now, out JwtClaims? claims, bool canonicalSignature = false)
    {
        claims = null;
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        if (first <= 0 || second < 0 || token.IndexOf('.', second + 1) >= 0)
        {
            return JwtError.Malformed;
        }

        if (!TryReadHeader(token, out var algorithm, out _) || algorithm is null)
        {
            return JwtError.Malformed;
        }

        // The algorithm is the one the key was published for and one the configuration allows: never the token's say.
        if (algorithm != key.Algorithm || !allowedAlgorithms.Contains(algorithm))
        {
            return JwtError.AlgorithmNotAllowed;
        }

        byte[] signature;
        byte[] payloadBytes;
        try
        {
            signature = Base64Url.DecodeFromChars(token.AsSpan(second + 1));
            payloadBytes = Base64Url.DecodeFromChars(token.AsSpan(first + 1, second - first - 1));
        }
        catch (FormatException)
        {
            return JwtError.Malformed;
        }

        var signed = Encoding.ASCII.GetBytes(token, 0, second);
        if (!key.Verify(signed, signature, canonicalSignature))
        {
            return JwtError.BadSignature;
        }

        JsonElement payload;
        try
        {
            using var document = JsonDocument.Parse(payloadBytes);
            payload = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JwtError.Malformed;
        }

        if (payload.ValueKind != JsonValueKind.Object)
        {
            return JwtError.Malformed;
        }

        if (Text(payload, "iss") != issuer)
        {
            return JwtError.WrongIssuer;
        }

        var audiences = Audiences(payload);
        var audienceOk = false;
        foreach (var audience in audiences)
        {
            audienceOk |= audienceAccepted(audience);
        }

        if (!audienceOk)
        {
            return JwtError.WrongAudience;
        }

        // Compared against now ± skew, never expires ± skew: a validly signed exp in year 9999 must not overflow.
        if (!TryTime(payload, "exp", out var expires) || expires < now - ClockSkew)
        {
            return JwtError.Expired;
        }

        if (TryTime(payload, "nbf", out var notBefore) && notBefore > now + ClockSkew)
        {
            return JwtError.NotYetValid;
        }

        claims = new JwtClaims(issuer, Text(payload, "sub") ?? string.Empty, audiences, expires, payload);
        return JwtError.None;
    }

    /// <summary>Signs a token: the header names the key, the payload is written by <paramref name="writeClaims"/>.</summary>
    public static string Sign(JsonWebKey key, Action<Utf8JsonWriter> writeClaims)
    {
        var header = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", key.Algorithm);
            writer.WriteString("typ", "at+jwt");
            writer.WriteString("kid", key.Kid);
            writer.WriteEndObject();
        }

        var payload = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(payload, new JsonWriterOptions { Encoder = JsonRpcWriter.RelaxedOptions.Encoder }))
        {
            writer.WriteStartObject();
            writeClaims(writer);
            writer.WriteEndObject();
        }

        var signed = $"{Base64Url.EncodeToString(header.WrittenSpan)}.{Base64Url.EncodeToString(payload.WrittenSpan)}";
        return $"{signed}.{Base64Url.EncodeToString(key.Sign(Encoding.ASCII.GetBytes(signed)))}";
    }

    public static string? Text(JsonElement payload, string name)
        => payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A claim that is a string or an array of strings (<c>groups</c>, <c>aud</c>).</summary>
    public static ImmutableArray<string> Strings(JsonElement payload, string name)
    {
        if (!payload.TryGetProperty(name, out var value))
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        var result = ImmutableArray.CreateBuilder<string>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String)
                {
                    result.Add(item.GetString()!);
                }
            }
        }

        return result.ToImmutable();
    }

    private static ImmutableArray<string> Audiences(JsonElement payload) => Strings(payload, "aud");

    private static bool TryTime(JsonElement payload, string name, out DateTimeOffset time)
    {
        time = default;
        if (!payload.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var seconds))
        {
            return false;
        }

        time = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, -62135596800L, 253402300799L));
        return true;
    }
}
