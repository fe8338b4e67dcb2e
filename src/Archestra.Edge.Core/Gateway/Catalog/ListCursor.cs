using System.Buffers.Binary;
using System.Buffers.Text;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// The gateway's list cursors: opaque to clients, base64url of the catalog's fingerprint and the offset of the
/// next page. A cursor is only good for the list it was cut from: once the list changes, it is refused.
/// </summary>
internal static class ListCursor
{
    private const int RawLength = 12;

    public const int MaxLength = 16;

    public static int Format(ulong fingerprint, int offset, Span<byte> destination)
    {
        Span<byte> raw = stackalloc byte[RawLength];
        BinaryPrimitives.WriteUInt64BigEndian(raw, fingerprint);
        BinaryPrimitives.WriteInt32BigEndian(raw[8..], offset);
        return Base64Url.EncodeToUtf8(raw, destination);
    }

    public static bool TryParse(ReadOnlySpan<byte> cursor, out ulong fingerprint, out int offset)
    {
        fingerprint = 0;
        offset = 0;
        Span<byte> raw = stackalloc byte[RawLength];
        if (cursor.Length != MaxLength || Base64Url.DecodeFromUtf8(cursor, raw, out _, out var written) != System.Buffers.OperationStatus.Done || written != RawLength)
        {
            return false;
        }

        fingerprint = BinaryPrimitives.ReadUInt64BigEndian(raw);
        offset = BinaryPrimitives.ReadInt32BigEndian(raw[8..]);
        return offset > 0;
    }
}
