using System.IO.Pipelines;
using Archestra.Edge.Protocol.Framing;

namespace Archestra.Edge.Upstreams.Http;

/// <summary>
/// An upstream answer sent as a <c>text/event-stream</c>: messages are returned event by event as they arrive. When
/// the server closes the stream before the answer after it gave an event id (SEP-1699: priming, polling), the reply
/// resumes it with GET and <c>Last-Event-ID</c> after the server's <c>retry</c>, as often as the stream makes progress.
/// </summary>
internal sealed class SseReply : IUpstreamReply
{
    /// <summary>Resumptions in a row that brought no new event before the call gives up.</summary>
    internal const int MaxFruitlessResumptions = 3;

    /// <summary>The longest <c>retry</c> honoured; a server asking for more is resumed after this.</summary>
    internal static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_defaultRetry = TimeSpan.FromSeconds(1);

    private readonly Func<string, CancellationToken, Task<(HttpResponseMessage? Response, string? Error)>>? _resume;
    private readonly Action? _onDisposed;
    private HttpResponseMessage _response;
    private PipeReader _reader;
    private SseParser _parser = new() { MaxEventBytes = JsonReply.MaxBodyBytes };
    private byte[]? _lastEventId; // the id's bytes, kept in one reused array: decoded only to resume
    private int _lastEventIdLength;
    private TimeSpan _retry = s_defaultRetry;
    private bool _eventsSinceResume;
    private int _fruitless;
    private bool _answered;
    private bool _completed;

    /// <param name="resume">Re-opens the stream from an event id (GET with <c>Last-Event-ID</c>); null: no resumption.</param>
    /// <param name="onDisposed">Called once when the reply is disposed (the call it answers is over).</param>
    public SseReply(HttpResponseMessage response, Stream stream, Action? onDisposed = null,
        Func<string, CancellationToken, Task<(HttpResponseMessage? Response, string? Error)>>? resume = null)
    {
        _response = response;
        _reader = PipeReader.Create(stream);
        _onDisposed = onDisposed;
        _resume = resume;
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
                    if (sseEvent.HasId && !sseEvent.Id.IsEmpty)
                    {
                        var id = sseEvent.Id.Span;
                        if (_lastEventId is null || _lastEventId.Length < id.Length)
                        {
                            _lastEventId = new byte[Math.Max(id.Length, 32)];
                        }

                        id.CopyTo(_lastEventId);
                        _lastEventIdLength = id.Length;
                        _eventsSinceResume = true;
                    }

                    if (sseEvent.RetryMilliseconds >= 0)
                    {
                        var retry = TimeSpan.FromMilliseconds(sseEvent.RetryMilliseconds);
                        _retry = retry > MaxRetry ? MaxRetry : retry;
                    }

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

                    _answered |= message.Envelope.IsResponse;

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
                if (!_answered && _lastEventId is { } from && _resume is not null
                    && await ResumeAsync(System.Text.Encoding.UTF8.GetString(from, 0, _lastEventIdLength), cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                _completed = true;
            }
        }

        Error = Error.IsError ? Error : UpstreamError.Failed("the server closed the event stream before answering");
        return null;
    }

    /// <summary>
    /// Re-opens the stream after the server's <c>retry</c>, from the last event id; false (with <see cref="Error"/> set
    /// when the server refused) when it cannot, or when resuming stopped bringing events.
    /// </summary>
    private async Task<bool> ResumeAsync(string lastEventId, CancellationToken cancellationToken)
    {
        _fruitless = _eventsSinceResume ? 0 : _fruitless + 1;
        _eventsSinceResume = false;
        if (_fruitless >= MaxFruitlessResumptions)
        {
            Error = UpstreamError.Failed($"the server closed the event stream before answering, {MaxFruitlessResumptions} times in a row without a new event");
            return false;
        }

        await Task.Delay(_retry, cancellationToken).ConfigureAwait(false);
        var (response, error) = await _resume!(lastEventId, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            Error = UpstreamError.Failed($"the server closed the event stream before answering, and resuming it failed: {error}");
            return false;
        }

        await _reader.CompleteAsync().ConfigureAwait(false);
        _parser.Dispose();
        _response.Dispose();
        _response = response;
        _reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        _parser = new SseParser { MaxEventBytes = JsonReply.MaxBodyBytes };
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _onDisposed?.Invoke();
        await _reader.CompleteAsync().ConfigureAwait(false);
        _parser.Dispose();
        _response.Dispose();
    }
}
