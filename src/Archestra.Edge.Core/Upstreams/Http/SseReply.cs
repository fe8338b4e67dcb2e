using System.IO.Pipelines;
using Archestra.Edge.Protocol.Framing;

namespace Archestra.Edge.Upstreams.Http;

/// <summary>An upstream answer sent as a <c>text/event-stream</c>: messages are returned event by event as they arrive.</summary>
internal sealed class SseReply : IUpstreamReply
{
    private readonly HttpResponseMessage _response;
    private readonly PipeReader _reader;
    private readonly SseParser _parser = new() { MaxEventBytes = JsonReply.MaxBodyBytes };
    private readonly Action? _onDisposed;
    private bool _completed;

    /// <param name="onDisposed">Called once when the reply is disposed (the call it answers is over).</param>
    public SseReply(HttpResponseMessage response, Stream stream, Action? onDisposed = null)
    {
        _response = response;
        _reader = PipeReader.Create(stream);
        _onDisposed = onDisposed;
    }

    public UpstreamError Error { get; private set; }

    public async ValueTask<UpstreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        while (!_completed)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                // Broken framing (bad chunked encoding, a reset connection): the call gets the error, not a 500.
                Error = UpstreamError.Failed($"the server's event stream broke off: {ex.Message}");
                _completed = true;
                return null;
            }

            var buffer = result.Buffer;
            try
            {
                while (_parser.TryReadEvent(ref buffer, out var sseEvent))
                {
                    if (!sseEvent.IsMessage || sseEvent.Data.IsEmpty)
                    {
                        continue; // priming events, retry hints, other event types
                    }

                    var message = UpstreamMessage.Copy(sseEvent.Data.Span);
                    if (!message.Envelope.IsValid)
                    {
                        message.Dispose();
                        continue;
                    }

                    // Leave the rest buffered: the next ReadAsync returns it without waiting.
                    _reader.AdvanceTo(buffer.Start, buffer.Start);
                    return message;
                }
            }
            catch (InvalidDataException ex)
            {
                Error = UpstreamError.Failed(ex.Message);
                _completed = true;
                return null;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _completed = true;
            }
        }

        Error = UpstreamError.Failed("the server closed the event stream before answering");
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _onDisposed?.Invoke();
        await _reader.CompleteAsync().ConfigureAwait(false);
        _parser.Dispose();
        _response.Dispose();
    }
}
