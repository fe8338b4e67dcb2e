using System.Buffers;

namespace Archestra.Edge.Upstreams.Http;

/// <summary>Reads an upstream answer sent as one <c>application/json</c> body: exactly one message.</summary>
internal static class JsonReply
{
    // A single JSON-RPC response larger than this is refused rather than buffered.
    internal const int MaxBodyBytes = 64 << 20;

    public static async Task<CompletedReply> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            var declared = response.Content.Headers.ContentLength;
            if (declared > MaxBodyBytes)
            {
                return new CompletedReply(null, UpstreamError.Failed($"the server's answer is larger than {MaxBodyBytes} bytes"));
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 ? (int)declared.Value : 4096);
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxBodyBytes)
                        {
                            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                            return new CompletedReply(null, UpstreamError.Failed($"the server's answer is larger than {MaxBodyBytes} bytes"));
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                        buffer = larger;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                // Broken framing (bad chunked encoding, a reset connection) mid-body: the call gets the error, not a 500.
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                return new CompletedReply(null, UpstreamError.Failed($"the server's answer broke off: {ex.Message}"));
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                throw;
            }

            var message = UpstreamMessage.Adopt(buffer, length);
            if (!message.Envelope.IsValid)
            {
                message.Dispose();
                return new CompletedReply(null, UpstreamError.Failed("the server's JSON answer is not a valid JSON-RPC message"));
            }

            return new CompletedReply(message, UpstreamError.None);
        }
    }
}
