using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Archestra.Edge.Utilities;

/// <summary>
/// Cryptographically secure random bytes straight from the kernel (<c>getrandom(2)</c>) on Linux. The BCL's
/// generator goes through OpenSSL there, which maps libcrypto (3-4 MB of RSS) into a gateway that may never need
/// it otherwise; elsewhere, or if the call fails, the BCL generator is used.
/// </summary>
internal static partial class SecureRandom
{
    public static void Fill(Span<byte> buffer)
    {
        if (OperatingSystem.IsLinux() && TryGetRandom(buffer))
        {
            return;
        }

        RandomNumberGenerator.Fill(buffer);
    }

    /// <summary>Lower-case hex of <paramref name="bytes"/> random bytes.</summary>
    public static string HexString(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        Fill(buffer);
        return Convert.ToHexStringLower(buffer);
    }

    private static bool TryGetRandom(Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var read = GetRandom(ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length, 0);
            if (read <= 0)
            {
                return false;
            }

            buffer = buffer[(int)read..];
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "getrandom")]
    private static partial nint GetRandom(ref byte buffer, nuint length, uint flags);
}
