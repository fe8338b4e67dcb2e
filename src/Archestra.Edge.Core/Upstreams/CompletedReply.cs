namespace Archestra.Edge.Upstreams;

/// <summary>A reply that is already complete: one message (or none, with an error).</summary>
internal sealed class CompletedReply : IUpstreamReply
{
    private UpstreamMessage? _message;

    public CompletedReply(UpstreamMessage? message, UpstreamError error = default)
    {
        _message = message;
        Error = error;
    }

    public UpstreamError Error { get; }

    public ValueTask<UpstreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        var message = _message;
        _message = null;
        return ValueTask.FromResult(message);
    }

    public ValueTask DisposeAsync()
    {
        _message?.Dispose();
        _message = null;
        return ValueTask.CompletedTask;
    }
}
