using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Archestra.Edge.Identity.Jwt;

/// <summary>
/// A public key from a JWKS (RFC 7517): RSA (<c>kty: RSA</c>, for RS256) or P-256 EC (<c>kty: EC</c>, for ES256).
/// Other key types are skipped when a set is read.
/// </summary>
internal sealed class JsonWebKey : IDisposable
{
    private JsonWebKey(string kid, string algorithm, RSA? rsa, ECDsa? ec)
    {
        Kid = kid;
        Algorithm = algorithm;
        Rsa = rsa;
        Ec = ec;
    }

    public string Kid { get; }

    /// <summary><c>RS256</c> or <c>ES256</c>: the only algorithm this key verifies.</summary>
    public string Algorithm { get; }

    public RSA? Rsa { get; }

    public ECDsa? Ec { get; }

    public static JsonWebKey ForRsa(string kid, RSA rsa) => new(kid, "RS256", rsa, null);

    public static JsonWebKey ForEc(string kid, ECDsa ec) => new(kid, "ES256", null, ec);

    /// <summary>Reads the usable signing keys of a JWKS document.</summary>
    public static List<JsonWebKey> ReadSet(ReadOnlySpan<byte> json)
    {
        var keys = new List<JsonWebKey>();
        using var document = JsonDocument.Parse(json.ToArray());
        if (!document.RootElement.TryGetProperty("keys", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return keys;
        }

        foreach (var key in array.EnumerateArray())
        {
            if (key.ValueKind != JsonValueKind.Object || String(key, "use") is not (null or "sig"))
            {
                continue;
            }

            var kid = String(key, "kid") ?? string.Empty;
            try
            {
                switch (String(key, "kty"))
                {
                    case "RSA" when String(key, "alg") is null or "RS256" && String(key, "n") is { } n && String(key, "e") is { } e:
                        keys.Add(ForRsa(kid, RSA.Create(new RSAParameters { Modulus = Base64Url.DecodeFromChars(n), Exponent = Base64Url.DecodeFromChars(e) })));
                        break;
                    case "EC" when String(key, "crv") == "P-256" && String(key, "alg") is null or "ES256" && String(key, "x") is { } x && String(key, "y") is { } y:
                        keys.Add(ForEc(kid, ECDsa.Create(new ECParameters
                        {
                            Curve = ECCurve.NamedCurves.nistP256,
                            Q = new ECPoint { X = Base64Url.DecodeFromChars(x), Y = Base64Url.DecodeFromChars(y) },
                        })));
                        break;
                }
            }
            catch (Exception ex) when (ex is CryptographicException or FormatException)
            {
                // A malformed key is skipped; the others still work.
            }
        }

        return keys;
    }

    /// <summary>Writes this key's public part as a JWK.</summary>
    public void WritePublic(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("kid", Kid);
        writer.WriteString("use", "sig");
        writer.WriteString("alg", Algorithm);
        if (Rsa is not null)
        {
            var parameters = Rsa.ExportParameters(includePrivateParameters: false);
            writer.WriteString("kty", "RSA");
            writer.WriteString("n", Base64Url.EncodeToString(parameters.Modulus));
            writer.WriteString("e", Base64Url.EncodeToString(parameters.Exponent));
        }
        else
        {
            var parameters = Ec!.ExportParameters(includePrivateParameters: false);
            writer.WriteString("kty", "EC");
            writer.WriteString("crv", "P-256");
            writer.WriteString("x", Base64Url.EncodeToString(parameters.Q.X));
            writer.WriteString("y", Base64Url.EncodeToString(parameters.Q.Y));
        }

        writer.WriteEndObject();
    }

    // The order n of P-256, and n/2: an ECDSA signature (r, s) is also valid as (r, n - s). The low-S form (s <= n/2)
    // is the canonical one; the built-in server signs only in it and accepts only it.
    private static readonly System.Numerics.BigInteger s_p256Order = System.Numerics.BigInteger.Parse(
        "0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    private static readonly System.Numerics.BigInteger s_p256HalfOrder = s_p256Order >> 1;

    /// <summary>
    /// Verifies a signature. With <paramref name="canonicalOnly"/>, an ES256 signature must be in its low-S form, so a
    /// token has exactly one valid encoding (tokens of the built-in server; external IdPs commonly sign high-S too).
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> signature, bool canonicalOnly = false) => Algorithm switch
    {
        "RS256" => Rsa!.VerifyData(signedPart, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => signature.Length == 64 && (!canonicalOnly || IsLowS(signature))
            && Ec!.VerifyData(signedPart, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
    };

    public byte[] Sign(ReadOnlySpan<byte> signedPart) => Algorithm switch
    {
        "RS256" => Rsa!.SignData(signedPart.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => ToLowS(Ec!.SignData(signedPart.ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
    };

    internal static bool IsLowS(ReadOnlySpan<byte> signature)
        => new System.Numerics.BigInteger(signature[32..], isUnsigned: true, isBigEndian: true) <= s_p256HalfOrder;

    internal static byte[] ToLowS(byte[] signature)
    {
        var s = new System.Numerics.BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        if (s > s_p256HalfOrder)
        {
            var low = s_p256Order - s;
            signature.AsSpan(32).Clear();
            var length = low.GetByteCount(isUnsigned: true);
            low.TryWriteBytes(signature.AsSpan(64 - length), out _, isUnsigned: true, isBigEndian: true);
        }

        return signature;
    }

    public void Dispose()
    {
        Rsa?.Dispose();
        Ec?.Dispose();
    }

    private static string? String(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
