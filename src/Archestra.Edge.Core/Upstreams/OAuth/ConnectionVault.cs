using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>
/// Seals connections for the state store with AES-256-GCM: <c>version (1) | key id (8) | nonce (12) | tag (16) |
/// ciphertext</c>, the server and owner as associated data (a row copied under another server or owner does not
/// open). The key is derived from <c>storage.encryption_key</c> with HKDF-SHA256; the key id (a hash of the derived
/// key) says which key sealed a row, so rows sealed with a previous key (<c>previous_encryption_keys</c>) still open
/// and are sealed again with the current key the next time they are written.
/// </summary>
internal sealed class ConnectionVault
{
    private const byte Version = 1;
    private const int KeyIdLength = 8;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int HeaderLength = 1 + KeyIdLength + NonceLength + TagLength;

    private readonly (byte[] Id, byte[] Key)[] _keys;

    public ConnectionVault(ImmutableArray<string> secrets)
    {
        if (secrets.IsDefaultOrEmpty)
        {
            throw new ArgumentException("at least one key is needed", nameof(secrets));
        }

        _keys = [.. secrets.Select(static secret =>
        {
            var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "archestra-edge upstream connections"u8.ToArray());
            return (SHA256.HashData(key)[..KeyIdLength], key);
        })];
    }

    public byte[] Seal(string server, string owner, byte[] plaintext)
    {
        var (id, key) = _keys[0];
        var output = new byte[HeaderLength + plaintext.Length];
        output[0] = Version;
        id.CopyTo(output, 1);
        var nonce = output.AsSpan(1 + KeyIdLength, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagLength);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderLength), output.AsSpan(1 + KeyIdLength + NonceLength, TagLength), Associated(server, owner));
        return output;
    }

    /// <summary>The plaintext, or null when the row is not one this vault can open (unknown key, altered, or another row's).</summary>
    public byte[]? Open(string server, string owner, byte[] sealedBytes)
    {
        if (sealedBytes.Length < HeaderLength || sealedBytes[0] != Version)
        {
            return null;
        }

        var id = sealedBytes.AsSpan(1, KeyIdLength);
        foreach (var (keyId, key) in _keys)
        {
            if (!id.SequenceEqual(keyId))
            {
                continue;
            }

            var plaintext = new byte[sealedBytes.Length - HeaderLength];
            try
            {
                using var aes = new AesGcm(key, TagLength);
                aes.Decrypt(sealedBytes.AsSpan(1 + KeyIdLength, NonceLength), sealedBytes.AsSpan(HeaderLength), sealedBytes.AsSpan(1 + KeyIdLength + NonceLength, TagLength),
                    plaintext, Associated(server, owner));
                return plaintext;
            }
            catch (AuthenticationTagMismatchException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Whether a row was sealed with a previous key (and should be sealed again).</summary>
    public bool IsStale(byte[] sealedBytes) => sealedBytes.Length >= HeaderLength && !sealedBytes.AsSpan(1, KeyIdLength).SequenceEqual(_keys[0].Id);

    private static byte[] Associated(string server, string owner) => Encoding.UTF8.GetBytes($"{server}\n{owner}");
}
