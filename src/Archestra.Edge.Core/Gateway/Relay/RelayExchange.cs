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
internal sealed class RelayExchange
{
    public DownstreamSession Session { get; private set; } = null!;

    public RelayCall Call { get; private set; } = null!;

    public RelayTarget Target { get; private set; }

    public McpMethod Method { get; private set; }

    /// <summary>Readies the exchange (each pooled <see cref="RelayCall"/> owns one, so a call allocates none).</summary>
    public RelayExchange Begin(DownstreamSession session, RelayCall call, RelayTarget target, McpMethod method, IUpstreamReply reply, DownstreamWriter writer, ReadOnlyMemory<byte> clientId)
    {
        Session = session;
        Call = call;
        Target = target;
        Method = method;
        Reply = reply;
        Writer = writer;
        ClientId = clientId;
        return this;
    }

    /// <summary>Drops every reference when the call goes back to the pool.</summary>
    public void Clear()
    {
        Session = null!;
        Call = null!;
        Target = default;
        Reply = null!;
        Writer = null!;
        ClientId = default;
        ClientProgressToken = default;
        Request = null;
        Rounds = 0;
        InputKey = null;
        UpstreamRequestId = null;
        InputRequests = null;
        ItemToken = null;
        ItemRange = default;
        Body = default;
        Expiry = default;
        Redaction = null;
    }

    /// <summary>The upstream's reply; replaced when the call is sent again with a 2026-07-28 server's input answered.</summary>
    public IUpstreamReply Reply { get; set; } = null!;

    public DownstreamWriter Writer { get; set; } = null!;

    public ReadOnlyMemory<byte> ClientId { get; set; }

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

    /// <summary>The name or URI token of the call, so a retry is known to be the same request (copied when the call parks).</summary>
    public byte[]? ItemToken { get; set; }

    /// <summary>Where that token is in <see cref="Body"/>, the client's request (valid while the first HTTP request lasts).</summary>
    public Protocol.JsonRpc.JsonRange ItemRange { get; set; }

    public ReadOnlyMemory<byte> Body { get; set; }

    public CancellationTokenRegistration Expiry { get; set; }

    /// <summary>What scanning the result found and did (<c>redacted:redaction(github_token)</c>), for the audit record.</summary>
    public string? Redaction { get; set; }
}
