using System.Buffers.Text;
using System.Security.Cryptography;

namespace Archestra.Edge.Fleet;

/// <summary>
/// Mints the <c>Mcp-Session-Id</c>s of this instance and tells whose a presented one is. Alone, an id is 256 random
/// bits. In a fleet it names its owner and is sealed: version (1 byte), owner instance (8), random (16) and an
/// HMAC-SHA256 tag (8, under the fleet's session key) — 44 base64url characters. Any instance can then route a
/// session's traffic to its owner without a lookup, and an id that was made up or altered fails the tag here, with
/// no hop and no table touched.
/// </summary>
internal sealed class SessionIds
{
    private const byte Version = 1;
    private const int InstanceBytes = 8;
    private const int RandomBytes = 16;
    private const int TagBytes = 8;
    private const int SealedBytes = 1 + InstanceBytes + RandomBytes + TagBytes;
    private const int SealedChars = (SealedBytes + 2) / 3 * 4;

    private readonly byte[]? _instance;
    private readonly byte[]? _key;

    private SessionIds(byte[]? instance, byte[]? key)
    {
        _instance = instance;
        _key = key;
    }

    /// <summary>A lone instance: random ids that name no owner.</summary>
    public static SessionIds Standalone { get; } = new(null, null);

    /// <summary>An instance of a fleet: ids sealed under <paramref name="key"/>, naming <paramref name="instance"/> (8 bytes).</summary>
    public static SessionIds ForFleet(byte[] instance, byte[] key) => new(instance, key);

    public string NewId()
    {
        if (_key is null)
        {
            Span<byte> bytes = stackalloc byte[32];
            Utilities.SecureRandom.Fill(bytes);
            return Base64Url.EncodeToString(bytes);
        }

        Span<byte> sealedId = stackalloc byte[SealedBytes];
        sealedId[0] = Version;
        _instance.CopyTo(sealedId[1..]);
        Utilities.SecureRandom.Fill(sealedId.Slice(1 + InstanceBytes, RandomBytes));
        Span<byte> tag = stackalloc byte[32];
        HMACSHA256.HashData(_key, sealedId[..^TagBytes], tag);
        tag[..TagBytes].CopyTo(sealedId[^TagBytes..]);
        return Base64Url.EncodeToString(sealedId);
    }

    /// <summary>
    /// Whether <paramref name="id"/> is a sealed id of another instance of the fleet; if so, that instance's id (hex).
    /// False for this instance's ids, a lone instance's, and anything that does not verify.
    /// </summary>
    public bool TryGetOtherOwner(ReadOnlySpan<char> id, out string owner)
    {
        owner = string.Empty;
        if (_key is null || id.Length != SealedChars)
        {
            return false;
        }

        Span<byte> sealedId = stackalloc byte[SealedBytes];
        if (Base64Url.DecodeFromChars(id, sealedId, out var read, out var written) != System.Buffers.OperationStatus.Done
            || read != id.Length || written != SealedBytes || sealedId[0] != Version)
        {
            return false;
        }

        var instance = sealedId.Slice(1, InstanceBytes);
        if (instance.SequenceEqual(_instance))
        {
            return false;
        }

        Span<byte> tag = stackalloc byte[32];
        HMACSHA256.HashData(_key, sealedId[..^TagBytes], tag);
        if (!CryptographicOperations.FixedTimeEquals(tag[..TagBytes], sealedId[^TagBytes..]))
        {
            return false;
        }

        owner = Convert.ToHexStringLower(instance);
        return true;
    }
}
