using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Gateway.Policies;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>What a user answered to a policy's approval question.</summary>
internal enum ApprovalAnswer : byte
{
    Approved,
    Declined,

    /// <summary>Nobody could be asked: the client did not declare elicitation, or is a 2026-07-28 client (not yet asked).</summary>
    Unasked,
}

/// <summary>
/// <c>require_approval</c>: before the call goes upstream, the user is asked on the call's own stream with an
/// <c>elicitation/create</c> naming the tool, the server and the rule; the call goes on only if they accept with
/// <c>approve: true</c>. A client that did not declare elicitation cannot be asked, and the call is refused.
/// </summary>
internal sealed partial class CallRelay
{
    private static async Task<(ApprovalAnswer Answer, string? Refusal)> ApproveAsync(DownstreamWriter writer, DownstreamSession session, RelayCall call, RelayTarget target)
    {
        var rule = target.Verdict.Rule!;
        var tool = target.ItemName ?? string.Empty;
        if (session.Stateless || !session.Capabilities.ElicitationForm)
        {
            return (ApprovalAnswer.Unasked,
                $"Policy '{rule.Name}' requires the user's approval for {target.Server.Name}'s tool '{tool}', and this client cannot ask (it did not declare elicitation)");
        }

        var question = new ArrayBufferWriter<byte>(512);
        question.Write("{\"message\":"u8);
        JsonRpcWriter.WriteString(question, $"Allow {target.Server.Name}'s tool '{tool}' to run? (policy '{rule.Name}'{(rule.Message is { } why ? $": {why}" : string.Empty)})");
        question.Write(",\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"approve\":{\"type\":\"boolean\",\"title\":\"Approve this call\"}},\"required\":[\"approve\"]}}"u8);
        var response = await AskClientAsync(writer, session, call, upstream: null, "elicitation/create", question.WrittenSpan.ToArray()).ConfigureAwait(false);

        return Approved(response)
            ? (ApprovalAnswer.Approved, null)
            : (ApprovalAnswer.Declined, $"The user declined {target.Server.Name}'s tool '{tool}' (policy '{rule.Name}')");
    }

    /// <summary>Accepted, with <c>approve</c> not false.</summary>
    internal static bool Approved(ReadOnlySpan<byte> response)
    {
        try
        {
            var reader = new Utf8JsonReader(response);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.TryGetProperty("result", out var result)
                && result.TryGetProperty("action", out var action) && action.ValueEquals("accept"u8)
                && (!result.TryGetProperty("content", out var content) || !content.TryGetProperty("approve", out var approve) || approve.ValueKind != JsonValueKind.False);
        }
        catch (JsonException)
        {
            return false;
        }
    }

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
