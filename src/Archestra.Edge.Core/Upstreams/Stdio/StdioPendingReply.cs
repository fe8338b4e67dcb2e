using System.Threading.Channels;

namespace Archestra.Edge.Upstreams.Stdio;

/// <summary>The messages a stdio server sends for one request, queued by the session's read loop.</summary>
internal sealed class StdioPendingReply : IUpstreamReply
{
    private readonly Channel<UpstreamMessage> _messages = Channel.CreateUnbounded<UpstreamMessage>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    private readonly StdioUpstreamSession _session;

    public StdioPendingReply(StdioUpstreamSession session, long id)
    {
        _session = session;
        Id = id;
    }

    public long Id { get; }

    public UpstreamError Error { get; private set; }

    /// <summary>Queues a related message (progress, log, server-to-client request).</summary>
    public void Enqueue(UpstreamMessage message)
    {
        if (!_messages.Writer.TryWrite(message))
        {
            message.Dispose();
        }
    }

    /// <summary>Queues the response; nothing follows it.</summary>
    public void Complete(UpstreamMessage response)
    {
        Enqueue(response);
        _messages.Writer.TryComplete();
    }

    /// <summary>Ends the exchange without a response.</summary>
    public void Fail(UpstreamError error)
    {
        Error = error;
        _messages.Writer.TryComplete();
    }

    public async ValueTask<UpstreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        var reader = _messages.Reader;
        while (true)
        {
            if (reader.TryRead(out var message))
            {
                return message;
            }

            if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _session.Forget(this);
        _messages.Writer.TryComplete();
        while (_messages.Reader.TryRead(out var leftover))
        {
            leftover.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
