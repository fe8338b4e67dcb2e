using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// A relayed call once it reached its upstream: the reply being read and where its messages go. The response side
/// (<see cref="Writer"/>, <see cref="ClientId"/>, <see cref="ClientProgressToken"/>) belongs to the HTTP request being
/// answered and changes when a 2026-07-28 client retries a parked call; the upstream side stays.
/// </summary>
internal sealed class RelayExchange(DownstreamSession session, RelayCall call, RelayTarget target, McpMethod method, IUpstreamReply reply)
{
    public DownstreamSession Session { get; } = session;

    public RelayCall Call { get; } = call;

    public RelayTarget Target { get; } = target;

    public McpMethod Method { get; } = method;

    /// <summary>The upstream's reply; replaced when the call is sent again with a 2026-07-28 server's input answered.</summary>
    public IUpstreamReply Reply { get; set; } = reply;

    public required DownstreamWriter Writer { get; set; }

    public required ReadOnlyMemory<byte> ClientId { get; set; }

    public ReadOnlyMemory<byte> ClientProgressToken { get; set; }

    /// <summary>The request as sent upstream (to send it again with <c>inputResponses</c>); valid while the first HTTP request lasts.</summary>
    public PooledBufferWriter? Request { get; set; }

    /// <summary>How many times the call was sent again with input answered (bounded).</summary>
    public int Rounds { get; set; }

    // While parked (a 2026-07-28 client's call waiting for its answers):

    /// <summary>The key of the input request in the <c>InputRequiredResult</c>, and the upstream request it answers.</summary>
    public string? InputKey { get; set; }

    public byte[]? UpstreamRequestId { get; set; }

    /// <summary>The <c>InputRequiredResult</c> as sent, without its state (to ask again when the retry lacks the answer).</summary>
    public byte[]? InputRequests { get; set; }

    /// <summary>The name or URI token of the call, so a retry is known to be the same request.</summary>
    public byte[]? ItemToken { get; set; }

    public CancellationTokenRegistration Expiry { get; set; }
}
