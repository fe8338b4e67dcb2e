namespace Archestra.Edge.Upstreams;

/// <summary>
/// The messages an upstream sends in answer to one request: related notifications and server-to-client
/// requests first, then the response. Read until the response arrives; dispose to release the exchange.
/// </summary>
internal interface IUpstreamReply : IAsyncDisposable
{
    /// <summary>The next message, or null when the exchange ended without a response (see <see cref="Error"/>).</summary>
    ValueTask<UpstreamMessage?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Why the exchange ended without a response.</summary>
    UpstreamError Error { get; }
}
