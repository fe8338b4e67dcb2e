namespace Archestra.Edge.Utilities;

/// <summary>FNV-1a, 64 bits: a stable (not randomized) hash for content fingerprints and short name suffixes. Not for security.</summary>
internal static class Fnv1a
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        var hash = Offset;
        foreach (var b in data)
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }

    public static ulong Hash(ReadOnlySpan<char> text)
    {
        var hash = Offset;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}
