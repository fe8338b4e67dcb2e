using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Archestra.Edge.Identity;

/// <summary>How bearer secrets are made and recognised: <c>archestra_</c> + 32 random bytes (base64url); only SHA-256 is kept.</summary>
internal static class TokenSecrets
{
    public const string Prefix = "archestra_";

    /// <summary>Refresh tokens of the built-in authorization server.</summary>
    public const string RefreshPrefix = "archestra_rt_";

    /// <summary>Longest token accepted from a request (a bearer token, or a JWT of the built-in or an external issuer).</summary>
    public const int MaxLength = 8192;

    public static string NewToken(string prefix = Prefix)
    {
        Span<byte> random = stackalloc byte[32];
        Utilities.SecureRandom.Fill(random);
        return prefix + Base64Url.EncodeToString(random);
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>SHA-256 of a token as it came in the header (ASCII), into <paramref name="hash"/> (32 bytes), without allocating.</summary>
    public static void Hash(ReadOnlySpan<char> token, Span<byte> hash)
    {
        Span<byte> bytes = token.Length <= 512 ? stackalloc byte[token.Length] : new byte[token.Length];
        var written = Encoding.UTF8.GetBytes(token, bytes);
        SHA256.HashData(bytes[..written], hash);
    }
}
