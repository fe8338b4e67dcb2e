using System.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Upstreams;

/// <summary>
/// One JSON-RPC message received from an upstream, held in a pooled buffer with its envelope already read.
/// Owned by exactly one reader at a time; <see cref="Dispose"/> returns the buffer.
/// </summary>
internal sealed class UpstreamMessage : IDisposable
{
    private byte[] _buffer;
    private int _length;

    private UpstreamMessage(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
        Envelope = EnvelopeReader.Read(buffer.AsSpan(0, length));
    }

    public JsonRpcEnvelope Envelope { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public int Length => _length;

    /// <summary>Link for intrusive queues (a message is in at most one at a time).</summary>
    internal UpstreamMessage? Next { get; set; }

    public static UpstreamMessage Copy(ReadOnlySpan<byte> bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length, 1));
        bytes.CopyTo(buffer);
        return new UpstreamMessage(buffer, bytes.Length);
    }

    public static UpstreamMessage Copy(in ReadOnlySequence<byte> bytes)
    {
        var length = checked((int)bytes.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        bytes.CopyTo(buffer);
        return new UpstreamMessage(buffer, length);
    }

    /// <summary>Takes ownership of a rented array holding <paramref name="length"/> bytes of message.</summary>
    public static UpstreamMessage Adopt(byte[] rented, int length) => new(rented, length);

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }
}
