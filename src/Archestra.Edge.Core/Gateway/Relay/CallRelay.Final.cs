using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// The response that ends a call: scanned first when the profile has <c>redaction:</c> (passed, rewritten, or
/// withheld), then written under the client's id with what a 2026-07-28 client needs (the <c>resultType</c> and caching
/// hints of a 2025 server's result; a 2026-07-28 server's <c>requestState</c> sealed into the gateway's own).
/// </summary>
internal sealed partial class CallRelay
{
    /// <summary>
    /// The response, scanned first when the profile asks for it (<c>redaction:</c>): passed, rewritten with its findings
    /// replaced, or withheld. The decision is kept on the exchange for the audit record and counted per kind.
    /// </summary>
    private Task WriteFinalAsync(RelayExchange x, UpstreamMessage message)
    {
        if (x.Session.Profile.Model.Redaction is { } redaction && message.Envelope.Kind == JsonRpcMessageKind.Response
            && x.Method is McpMethod.ToolsCall or McpMethod.PromptsGet or McpMethod.ResourcesRead)
        {
            return WriteScannedFinalAsync(x, message, redaction);
        }

        return WriteUnscannedFinalAsync(x, message);
    }

    private Task WriteScannedFinalAsync(RelayExchange x, UpstreamMessage message, Model.RedactionSettings redaction)
    {
        var rewritten = new PooledBufferWriter(message.Length + 64);
        var outcome = Redaction.ResultRedactor.Scan(message.Span, message.Envelope.Result, redaction, rewritten);
        if (!outcome.Any)
        {
            // Nearly always: no state machine, the writer's buffer straight back to the pool.
            rewritten.Dispose();
            return WriteUnscannedFinalAsync(x, message);
        }

        return WriteFoundAsync(x, message, outcome, rewritten);
    }

    private async Task WriteFoundAsync(RelayExchange x, UpstreamMessage message, Redaction.RedactionOutcome outcome, PooledBufferWriter owned)
    {
        using var rewritten = owned;

        x.Redaction = $"{outcome.Decision}:redaction({string.Join(",", outcome.Kinds)})";
        foreach (var (kind, action) in outcome.Found)
        {
            _metrics?.RecordPolicyDecision(x.Session.ProfileName, $"redaction/{kind}", Redaction.RedactionOutcome.Word(action));
        }

        if (outcome.Action == Model.RedactionAction.Block)
        {
            var what = x.Method == McpMethod.ToolsCall ? $"the result of {x.Target.Server.Name}'s tool '{x.Target.ItemName}'"
                : x.Method == McpMethod.PromptsGet ? $"{x.Target.Server.Name}'s prompt '{x.Target.ItemName}'" : "the resource's contents";
            var text = $"Blocked: {what} held {string.Join(", ", outcome.Kinds)}, which profile '{x.Session.ProfileName}' does not let through";
            await (x.Method == McpMethod.ToolsCall
                ? x.Writer.WriteToolErrorAsync(text, x.ClientId)
                : x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.PolicyDenied, text), x.ClientId)).ConfigureAwait(false);
            return;
        }

        if (outcome.Action != Model.RedactionAction.Redact || rewritten.WrittenCount == 0)
        {
            await WriteUnscannedFinalAsync(x, message).ConfigureAwait(false);
            return;
        }

        using var redacted = UpstreamMessage.Copy(rewritten.WrittenSpan);
        await WriteUnscannedFinalAsync(x, redacted).ConfigureAwait(false);
    }

    /// <summary>The response, under the client's id, with what a 2026-07-28 client's result needs.</summary>
    private Task WriteUnscannedFinalAsync(RelayExchange x, UpstreamMessage message)
    {
        var session = x.Session;
        var target = x.Target;
        if (session.Stateless && message.Envelope.Kind == JsonRpcMessageKind.ErrorResponse)
        {
            x.Writer.FinalStatus = Stateless.ModernResults.StatusOf(message.Span, message.Envelope.ErrorObject);
        }

        if (session.Stateless && x.Call.Upstream!.IsModern)
        {
            return WriteModernFinalAsync(x.Writer, message, x.ClientId, session, target);
        }

        var members = session.Stateless ? ModernMembers(x.Method) : default;
        return target.ResultUriPrefix is null
            ? x.Writer.WriteFinalAsync(message, x.ClientId, members)
            : x.Writer.WriteFinalWithPrefixedUrisAsync(message, x.ClientId, target.ResultUriPrefix, members);
    }

    private static readonly byte[] s_readMembers = Stateless.ModernResults.ListMembers(0, authenticated: true);

    /// <summary>What a 2025 server's result lacks for a 2026-07-28 client: <c>resultType</c>, and for reads the caching hints (never cached: contents may be the caller's own).</summary>
    private static ReadOnlyMemory<byte> ModernMembers(McpMethod method)
        => method == McpMethod.ResourcesRead ? s_readMembers : Stateless.ModernResults.CompleteMember;

    /// <summary>
    /// A 2026-07-28 server's result to a 2026-07-28 client: relayed as it is, except that the <c>requestState</c> of an
    /// <c>InputRequiredResult</c> is sealed into the gateway's own, bound to the caller, the profile and the server, so the
    /// retry finds its way back and nobody else's retry can use it.
    /// </summary>
    private Task WriteModernFinalAsync(DownstreamWriter writer, UpstreamMessage message, ReadOnlyMemory<byte> clientId, DownstreamSession session, RelayTarget target)
    {
        if (message.Envelope.Kind != JsonRpcMessageKind.Response)
        {
            return writer.WriteFinalAsync(message, clientId);
        }

        var scan = Stateless.ResultScan.Read(message.Span, message.Envelope.Result);
        if (!scan.InputRequired)
        {
            return scan.HasResultType || target.ResultUriPrefix is not null
                ? (target.ResultUriPrefix is null ? writer.WriteFinalAsync(message, clientId) : writer.WriteFinalWithPrefixedUrisAsync(message, clientId, target.ResultUriPrefix))
                : writer.WriteFinalAsync(message, clientId, Stateless.ModernResults.CompleteMember);
        }

        var upstreamState = scan.RequestState.IsEmpty ? null : JsonString.Decode(scan.RequestState.Slice(message.Span));
        var sealedState = _states.Seal(new Stateless.RequestState(session.ProfileName, session.Principal, target.Server.Name, upstreamState, Parked: 0) { Approval = target.Approved });
        return scan.RequestState.IsEmpty
            ? writer.WriteFinalReplacingAsync(message, clientId, new JsonRange(scan.AfterResultType, 0), (byte[])[.. ",\"requestState\":"u8, .. sealedState])
            : writer.WriteFinalReplacingAsync(message, clientId, scan.RequestState, sealedState);
    }
}
