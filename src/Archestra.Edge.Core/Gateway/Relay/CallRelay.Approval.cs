using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Gateway.Policies;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>What a user answered to a policy's approval question.</summary>
internal enum ApprovalAnswer : byte
{
    Approved,
    Declined,

    /// <summary>Nobody could be asked: the client did not declare elicitation.</summary>
    Unasked,

    /// <summary>A 2026-07-28 client was sent the question as an <c>InputRequiredResult</c>; its retry brings the answer.</summary>
    Asked,
}

/// <summary>
/// <c>require_approval</c>: before the call goes upstream, the user is asked with an <c>elicitation/create</c> naming
/// the tool, the server and the rule; the call goes on only if they accept with <c>approve: true</c>. A 2025 client is
/// asked on the call's own stream. A 2026-07-28 client gets an <c>InputRequiredResult</c> holding the question under
/// <c>approval</c> and a sealed state naming the call (a digest of its server, tool and arguments); its retry with the
/// answer goes on, and the approval is sealed into any later state of the call (its server's own input rounds). A
/// client that did not declare elicitation cannot be asked, and the call is refused.
/// </summary>
internal sealed partial class CallRelay
{
    /// <summary>The key of the approval question in a 2026-07-28 <c>InputRequiredResult</c>'s <c>inputRequests</c>.</summary>
    internal const string ApprovalKey = "approval";

    private async Task<(ApprovalAnswer Answer, string? Refusal)> ApproveAsync(DownstreamWriter writer, DownstreamSession session, RelayCall call, RelayTarget target,
        RequestBody body, JsonRpcEnvelope envelope, ReadOnlyMemory<byte> clientId)
    {
        var rule = target.Verdict.Rule!;
        var tool = target.ItemName ?? string.Empty;
        if (!session.Capabilities.ElicitationForm)
        {
            return (ApprovalAnswer.Unasked,
                $"Policy '{rule.Name}' requires the user's approval for {target.Server.Name}'s tool '{tool}', and this client cannot ask (it did not declare elicitation)");
        }

        var question = new ArrayBufferWriter<byte>(512);
        question.Write("{\"message\":"u8);
        JsonRpcWriter.WriteString(question, $"Allow {target.Server.Name}'s tool '{tool}' to run? (policy '{rule.Name}'{(rule.Message is { } why ? $": {why}" : string.Empty)})");
        question.Write(",\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"approve\":{\"type\":\"boolean\",\"title\":\"Approve this call\"}},\"required\":[\"approve\"]}}"u8);
        var declined = $"The user declined {target.Server.Name}'s tool '{tool}' (policy '{rule.Name}')";
        if (!session.Stateless)
        {
            var response = await AskClientAsync(writer, session, call, upstream: null, "elicitation/create", question.WrittenSpan.ToArray()).ConfigureAwait(false);
            return Approved(response) ? (ApprovalAnswer.Approved, null) : (ApprovalAnswer.Declined, declined);
        }

        var digest = ApprovalDigest(target, body.Span, envelope);
        if (target.Approval == digest)
        {
            var answer = InputResponse(body.Span, envelope.InputResponses, ApprovalKey);
            if (!answer.IsEmpty)
            {
                return ApprovedResult(answer) ? (ApprovalAnswer.Approved, null) : (ApprovalAnswer.Declined, declined);
            }
        }

        // Asked (again, when the retry brought no answer to this very call): the question, and a state naming the call.
        var upstreamState = target.UpstreamRequestState is { } token ? JsonString.Decode(token) : null;
        var state = _states.Seal(new Stateless.RequestState(session.ProfileName, session.Principal, target.Server.Name, upstreamState, Parked: 0) { Approval = digest });
        using var result = new PooledBufferWriter(question.WrittenCount + state.Length + 128);
        result.Write("{\"resultType\":\"input_required\",\"inputRequests\":{\""u8);
        result.Write(System.Text.Encoding.UTF8.GetBytes(ApprovalKey));
        result.Write("\":{\"method\":\"elicitation/create\",\"params\":"u8);
        result.Write(question.WrittenSpan);
        result.Write("}},\"requestState\":"u8);
        result.Write(state);
        result.Write("}"u8);
        await writer.WriteFinalResultAsync(clientId, result.WrittenSpan).ConfigureAwait(false);
        return (ApprovalAnswer.Asked, null);
    }

    /// <summary>What an approval is bound to: the server, the tool and the arguments (canonical JSON, so a re-encoded retry matches).</summary>
    private static string ApprovalDigest(RelayTarget target, ReadOnlySpan<byte> body, JsonRpcEnvelope envelope)
    {
        var label = $"{target.Server.Name}\0{target.ItemName}";
        try
        {
            using var arguments = JsonDocument.Parse(envelope.Arguments.IsEmpty ? "{}"u8.ToArray() : envelope.Arguments.Slice(body).ToArray());
            return Utilities.CanonicalJson.Sha256(arguments.RootElement, label: label);
        }
        catch (JsonException)
        {
            return Utilities.CanonicalJson.Sha256(default, label: label + "\0" + Convert.ToHexString(envelope.Arguments.Slice(body)));
        }
    }

    /// <summary>Accepted, with <c>approve</c> not false.</summary>
    internal static bool Approved(ReadOnlySpan<byte> response)
    {
        try
        {
            var reader = new Utf8JsonReader(response);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.TryGetProperty("result", out var result) && Accepts(result);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An elicitation result (a 2026-07-28 retry's answer) that accepts, with <c>approve</c> not false.</summary>
    internal static bool ApprovedResult(ReadOnlySpan<byte> result)
    {
        try
        {
            var reader = new Utf8JsonReader(result);
            using var document = JsonDocument.ParseValue(ref reader);
            return Accepts(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Accepts(JsonElement result)
        => result.ValueKind == JsonValueKind.Object && result.TryGetProperty("action", out var action) && action.ValueEquals("accept"u8)
            && (!result.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object
                || !content.TryGetProperty("approve", out var approve) || approve.ValueKind != JsonValueKind.False);

    /// <summary>The decision as the audit trail keeps it, counted in the metric; null when no rule applied.</summary>
    private string? Decided(DownstreamSession session, PolicyVerdict verdict, ApprovalAnswer? answer = null)
    {
        if (verdict.Rule is not { } rule)
        {
            return null;
        }

        var label = answer switch
        {
            ApprovalAnswer.Approved => "approved",
            ApprovalAnswer.Declined => "declined",
            ApprovalAnswer.Unasked => "unapprovable",
            _ => verdict.Label,
        };
        if (answer is not null || verdict.Decision != Model.PolicyDecision.RequireApproval)
        {
            _metrics?.RecordPolicyDecision(session.ProfileName, rule.Name, label);
        }

        return $"{label}:{rule.Name}";
    }
}
