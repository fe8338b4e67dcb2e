namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>
/// A byte range inside one UTF-8 JSON message: where a token or a value starts and how long it is.
/// For strings the range covers the quotes, so it can be copied or replaced as a complete JSON token.
/// </summary>
public readonly record struct JsonRange(int Start, int Length)
{
    public int End => Start + Length;

    public bool IsEmpty => Length == 0;

    public ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> message) => message.Slice(Start, Length);

    /// <summary>The bytes between the quotes of a string token (the raw, still escaped, value).</summary>
    public ReadOnlySpan<byte> StringContent(ReadOnlySpan<byte> message) => message.Slice(Start + 1, Length - 2);
}
