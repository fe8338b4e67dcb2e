using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>
/// A request body read whole, without copying when Kestrel delivered it in one segment (the usual case):
/// the bytes stay in the request pipe until <see cref="Release"/>. Bodies split across segments are copied
/// into one pooled array.
/// </summary>
internal readonly struct RequestBody
{
    private readonly PipeReader? _reader;
    private readonly SequencePosition _end;
    private readonly byte[]? _rented;

    private RequestBody(ReadOnlyMemory<byte> memory, PipeReader? reader, SequencePosition end, byte[]? rented)
    {
        Memory = memory;
        _reader = reader;
        _end = end;
        _rented = rented;
    }

    public ReadOnlyMemory<byte> Memory { get; }

    /// <summary>A body over memory someone else owns (one element of a batch); <see cref="Release"/> does nothing.</summary>
    public static RequestBody FromMemory(ReadOnlyMemory<byte> memory) => new(memory, null, default, null);

    public ReadOnlySpan<byte> Span => Memory.Span;

    public static async ValueTask<(RequestBody Body, GatewayError Error)> ReadAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
        {
            return (default, TooLarge(limit));
        }

        var reader = context.Request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync().ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return (default, TooLarge(limit));
            }

            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return (default, TooLarge(limit));
            }

            if (!result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            if (buffer.IsSingleSegment)
            {
                return (new RequestBody(buffer.First, reader, buffer.End, null), default);
            }

            var length = (int)buffer.Length;
            var rented = ArrayPool<byte>.Shared.Rent(length);
            buffer.CopyTo(rented);
            reader.AdvanceTo(buffer.End);
            return (new RequestBody(rented.AsMemory(0, length), null, default, rented), default);
        }
    }

    /// <summary>Gives the bytes back (to the pipe or the pool). The body must not be used afterwards.</summary>
    public void Release()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented, clearArray: true);
        }
        else
        {
            _reader?.AdvanceTo(_end);
        }
    }

    private static GatewayError TooLarge(long limit)
        => new(GatewayErrorKind.PayloadTooLarge, $"Request body exceeds the limit of {limit} bytes (limits.max_request_bytes)");
}
