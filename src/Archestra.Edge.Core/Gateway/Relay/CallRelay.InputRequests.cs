using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Gateway.Stateless;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Observability;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Input during a call, across the eras. A 2025 server asks the client mid-call (elicitation, sampling, roots) with a
/// request on the call's stream; a 2026-07-28 server answers the call with an <c>InputRequiredResult</c> and expects
/// it again with <c>inputResponses</c>. The gateway translates both ways:
/// <code>
///  2026 client ─call─▶ gateway ─call─▶ 2025 server ─elicitation/create─▶ gateway: call parked
///  2026 client ◀─InputRequiredResult {inputRequests, requestState: sealed(parked id)}
///  2026 client ─call + inputResponses + requestState─▶ gateway ─response to elicitation─▶ server … result ─▶ client
///
///  2025 client ─call─▶ gateway ─call─▶ 2026 server ◀─InputRequiredResult
///  2025 client ◀─elicitation/create (SSE) ─ gateway;  answer (POST) ─▶ gateway ─call + inputResponses─▶ server … ─▶ client
/// </code>
/// </summary>
internal sealed partial class CallRelay
{
    /// <summary>How many times a 2026-07-28 server may ask a 2025 client for input within one call.</summary>
    internal const int MaxInputRounds = 8;

    /// <summary>How many input requests one <c>InputRequiredResult</c> of a 2026-07-28 server may carry for a 2025 client.</summary>
    internal const int MaxInputRequests = 32;

    private static bool ClientCan(DownstreamSession session, McpMethod method) => method switch
    {
        McpMethod.SamplingCreateMessage => session.Capabilities.Sampling,
        McpMethod.ElicitationCreate => session.Capabilities.ElicitationForm || session.Capabilities.ElicitationUrl,
        McpMethod.RootsList => session.Capabilities.Roots,
        _ => false,
    };


    /// <summary>
    /// A 2025 server asked a 2026-07-28 client for input: the call is parked, and the client gets an
    /// <c>InputRequiredResult</c> whose sealed state names it. False (the client got an error, the server a refusal)
    /// when too many calls are parked already.
    /// </summary>
    private async Task<bool> ParkAsync(RelayExchange x, UpstreamMessage message)
    {
        var envelope = message.Envelope;
        var upstreamId = envelope.Id.Slice(message.Span).ToArray();
        var method = envelope.MethodName.Slice(message.Span);
        x.ItemToken ??= x.ItemRange.IsEmpty ? [] : x.ItemRange.Slice(x.Body.Span).ToArray();
        x.Body = default;
        x.InputKey = $"{McpMethods.NameString(envelope.Method).Replace('/', '_')}-{x.Session.NextServerRequestId()}";
        x.UpstreamRequestId = upstreamId;
        var requests = new ArrayBufferWriter<byte>(message.Length + 64);
        requests.Write("{"u8);
        JsonRpcWriter.WriteString(requests, x.InputKey);
        requests.Write(":{\"method\":"u8);
        requests.Write(method);
        requests.Write(",\"params\":"u8);
        requests.Write(envelope.Params.IsEmpty ? "{}"u8 : envelope.Params.Slice(message.Span));
        requests.Write("}}"u8);
        x.InputRequests = requests.WrittenSpan.ToArray();

        var id = _parked.Add(x);
        if (id == 0)
        {
            await AnswerUpstreamAsync(x.Call.Upstream!, upstreamId, null, "The gateway has too many calls waiting for clients' input; refused").ConfigureAwait(false);
            await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamUnavailable,
                $"Upstream '{x.Target.Server.Name}' needs input from the client, and too many calls wait for input already ({ParkedCalls.MaxParked}); retry later"), x.ClientId).ConfigureAwait(false);
            return false;
        }

        x.Session.Parked = true;
        await WriteInputRequiredAsync(x, id).ConfigureAwait(false);
        ArmExpiry(x, id);
        return true;
    }

    /// <summary>The call's own time limit keeps running while it is parked: a client that never retries releases it when it expires.</summary>
    private void ArmExpiry(RelayExchange x, long id)
        => x.Expiry = x.Call.Token.UnsafeRegister(static (state, _) =>
        {
            var (relay, parkedId) = ((CallRelay, long))state!;
            relay.EndParked(parkedId);
        }, (this, id));

    private Task WriteInputRequiredAsync(RelayExchange x, long parkedId)
    {
        var state = _states.Seal(new RequestState(x.Session.ProfileName, x.Session.Principal, x.Target.Server.Name, UpstreamState: null, parkedId));
        using var result = new PooledBufferWriter(x.InputRequests!.Length + state.Length + 64);
        result.Write("{\"resultType\":\"input_required\",\"inputRequests\":"u8);
        result.Write(x.InputRequests);
        result.Write(",\"requestState\":"u8);
        result.Write(state);
        result.Write("}"u8);
        return x.Writer.WriteFinalResultAsync(x.ClientId, result.WrittenSpan);
    }

    /// <summary>A parked call whose time ran out before the client retried: the server is told, the call released.</summary>
    private void EndParked(long id)
    {
        if (!_parked.TryTake(id, out var x))
        {
            return;
        }

        SendCancel(x.Call, "the client did not answer the input request in time");
        _metrics?.RecordCall(x.Session.ProfileName, x.Target.Server.Name, MethodLabel(x.Method), x.Target.ItemName ?? string.Empty, CallOutcome.Timeout, x.Call.Timeout);
        _ = ReleaseAsync(x);
    }

    private static async Task ReleaseAsync(RelayExchange x)
    {
        // The exchange belongs to the pooled call: read what is needed before the call goes back.
        var session = x.Session;
        await x.Reply.DisposeAsync().ConfigureAwait(false);
        x.Call.Dispose();
        session.Parked = false;
        session.Close();
    }

    /// <summary>
    /// A 2026-07-28 client retried a parked call with its answers: the answer goes to the server's waiting request and
    /// the call's reply is relayed on this request's response, until the result or the next input request.
    /// </summary>
    public async Task ResumeAsync(HttpContext context, RequestBody body, JsonRpcEnvelope envelope, RequestState state)
    {
        var clientId = body.Memory.Slice(envelope.Id.Start, envelope.Id.Length);
        if (!_parked.TryTake(state.Parked, out var x))
        {
            await ResponseWriter.WriteErrorAsync(context, new GatewayError(GatewayErrorKind.InvalidRequestState,
                "Invalid params: the call this requestState continues is over (it ran out of time, or the gateway restarted); make the request again without requestState"), clientId.Span).ConfigureAwait(false);
            return;
        }

        x.Expiry.Dispose();
        var call = x.Call;
        x.Writer = new DownstreamWriter(context, x.Session);
        x.ClientId = clientId;
        x.ClientProgressToken = envelope.ProgressToken.IsEmpty ? default : body.Memory.Slice(envelope.ProgressToken.Start, envelope.ProgressToken.Length);
        x.Request = null;
        var started = _timeProvider.GetTimestamp();
        var outcome = CallOutcome.Rejected;
        var (profile, server, method, itemLabel) = (x.Session.ProfileName, x.Target.Server.Name, MethodLabel(x.Method), x.Target.ItemName ?? string.Empty);
        var streamClosed = CancelOnClose(context, call);
        try
        {
            var item = envelope.Method == McpMethod.ResourcesRead ? envelope.Uri : envelope.Name;
            if (envelope.Method != x.Method || !(item.IsEmpty ? [] : item.Slice(body.Span)).SequenceEqual(x.ItemToken))
            {
                SendCancel(call, "the client retried with another request");
                await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.InvalidRequestState,
                    "Invalid params: the requestState belongs to another request (a retry repeats the request it answers)"), clientId).ConfigureAwait(false);
                return;
            }

            var answer = InputResponse(body.Span, envelope.InputResponses, x.InputKey!);
            if (answer.IsEmpty)
            {
                // No usable answer to what was asked: ask again (the call stays parked under a new state).
                var id = _parked.Add(x);
                if (id != 0)
                {
                    outcome = CallOutcome.InputRequired;
                    await WriteInputRequiredAsync(x, id).ConfigureAwait(false);
                    ArmExpiry(x, id);
                    return;
                }

                SendCancel(call, "the client did not answer the input request");
                await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.InvalidParams, $"Invalid params: inputResponses has no answer for '{x.InputKey}'"), clientId).ConfigureAwait(false);
                return;
            }

            await AnswerUpstreamAsync(call.Upstream!, x.UpstreamRequestId!, answer.ToArray(), null).ConfigureAwait(false);
            x.Session.Parked = false;
            (outcome, _) = await PumpAsync(x).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (call.Token.IsCancellationRequested)
        {
            outcome = call.Stop == RelayStop.Timeout ? CallOutcome.Timeout : CallOutcome.Cancelled;
            await StopAsync(x.Writer, call, clientId).ConfigureAwait(false);
        }
        finally
        {
            streamClosed.Dispose();
            if (outcome != CallOutcome.InputRequired)
            {
                await ReleaseAsync(x).ConfigureAwait(false);
            }

            _metrics?.RecordCall(profile, server, method, itemLabel, outcome, _timeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>The answer under <paramref name="key"/> in <c>inputResponses</c>, if it is an object; empty otherwise.</summary>
    private static ReadOnlySpan<byte> InputResponse(ReadOnlySpan<byte> body, JsonRange responses, string key)
    {
        if (responses.IsEmpty || body[responses.Start] != (byte)'{')
        {
            return default;
        }

        var reader = new Utf8JsonReader(responses.Slice(body));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(key);
            reader.Read();
            var start = checked((int)reader.TokenStartIndex);
            reader.Skip();
            if (match && reader.TokenType == JsonTokenType.EndObject)
            {
                return responses.Slice(body).Slice(start, checked((int)reader.BytesConsumed) - start);
            }
        }

        return default;
    }

    /// <summary>
    /// A 2026-07-28 server answered a 2025 client's call with an <c>InputRequiredResult</c>: each input request is asked
    /// of the client on the call's stream (if it declared the capability), and the call is sent again with the answers
    /// and the server's state. Null to go on reading the new reply; otherwise the call ended with that outcome.
    /// </summary>
    /// <summary>
    /// Sends the gateway's own request to the client on the call's stream and waits (under the call's token) for the
    /// answer, which the session's pending table routes here instead of upstream; returns the whole response message.
    /// </summary>
    private static async Task<byte[]> AskClientAsync(DownstreamWriter writer, DownstreamSession session, RelayCall call, UpstreamSession? upstream, string method, byte[] parameters)
    {
        var gatewayId = session.NextServerRequestId();
        var answered = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.ServerRequests[gatewayId] = new PendingServerRequest(upstream, [], call) { Local = answered };
        try
        {
            var ask = new ArrayBufferWriter<byte>(parameters.Length + 96);
            ask.Write("{\"jsonrpc\":\"2.0\",\"id\":"u8);
            ask.Write(Encoding.ASCII.GetBytes(gatewayId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            ask.Write(",\"method\":"u8);
            JsonRpcWriter.WriteString(ask, method);
            ask.Write(",\"params\":"u8);
            ask.Write(parameters);
            ask.Write("}"u8);
            await writer.WriteEventAsync(ask.WrittenSpan).ConfigureAwait(false);
            return await answered.Task.WaitAsync(call.Token).ConfigureAwait(false);
        }
        finally
        {
            session.ServerRequests.TryRemove(gatewayId, out _);
        }
    }

    private static async Task<CallOutcome?> AskAndRetryAsync(RelayExchange x, UpstreamMessage message, ResultScan scan)
    {
        var call = x.Call;
        var session = x.Session;
        var upstream = call.Upstream!;
        var server = x.Target.Server.Name;
        if (x.Request is null || ++x.Rounds > MaxInputRounds)
        {
            await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamFailed,
                $"Upstream '{server}' asked for input more than {MaxInputRounds} times in one call; gave up"), x.ClientId).ConfigureAwait(false);
            return CallOutcome.Error;
        }

        var answers = new ArrayBufferWriter<byte>(256);
        answers.Write("{"u8);
        using (var document = JsonDocument.Parse(message.Envelope.Result.Slice(message.Span).ToArray()))
        {
            if (!document.RootElement.TryGetProperty("inputRequests", out var requests) || requests.ValueKind != JsonValueKind.Object)
            {
                await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamFailed, $"Upstream '{server}' answered input_required without inputRequests"), x.ClientId).ConfigureAwait(false);
                return CallOutcome.Error;
            }

            if (requests.GetPropertyCount() > MaxInputRequests)
            {
                // Each is asked of the client in turn and its answer kept for the retry: a server does not get to make that endless.
                await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamFailed,
                    $"Upstream '{server}' asked for {requests.GetPropertyCount()} inputs at once; the gateway relays at most {MaxInputRequests}"), x.ClientId).ConfigureAwait(false);
                return CallOutcome.Error;
            }

            var first = true;
            foreach (var request in requests.EnumerateObject())
            {
                var methodName = request.Value.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Empty;
                var method = McpMethods.Parse(Encoding.UTF8.GetBytes(methodName));
                if (!ClientCan(session, method))
                {
                    await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamFailed,
                        $"Upstream '{server}' needs {methodName} from the client, which did not declare that capability"), x.ClientId).ConfigureAwait(false);
                    return CallOutcome.Error;
                }

                var response = await AskClientAsync(x.Writer, session, call, upstream, methodName,
                    request.Value.TryGetProperty("params", out var p) ? Encoding.UTF8.GetBytes(p.GetRawText()) : "{}"u8.ToArray()).ConfigureAwait(false);

                var reply = EnvelopeReader.Read(response);
                if (reply.Kind != JsonRpcMessageKind.Response)
                {
                    await x.Writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamFailed,
                        $"The client refused {methodName}, which upstream '{server}' needs to go on"), x.ClientId).ConfigureAwait(false);
                    return CallOutcome.Error;
                }

                if (!first)
                {
                    answers.Write(","u8);
                }

                first = false;
                JsonRpcWriter.WriteString(answers, request.Name);
                answers.Write(":"u8);
                answers.Write(reply.Result.Slice(response));
            }
        }

        answers.Write("}"u8);

        // The call again, under a new id, with the answers and the server's state.
        var original = x.Request.WrittenMemory;
        var sent = EnvelopeReader.Read(original.Span);
        var retryId = upstream.NextRequestId();
        var id = Encoding.ASCII.GetBytes(retryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var state = scan.RequestState.IsEmpty ? null : scan.RequestState.Slice(message.Span).ToArray();

        // From the second round on, the request already carries answers and a state: they are replaced in place.
        var members = new ArrayBufferWriter<byte>(answers.WrittenCount + 64);
        if (sent.InputResponses.IsEmpty)
        {
            members.Write("\"inputResponses\":"u8);
            members.Write(answers.WrittenSpan);
            members.Write(","u8);
        }

        if (sent.RequestState.IsEmpty && state is not null)
        {
            members.Write("\"requestState\":"u8);
            members.Write(state);
            members.Write(","u8);
        }

        var rewriter = new MessageRewriter();
        if (members.WrittenCount > 0)
        {
            var paramsInner = original.Span[(sent.Params.Start + 1)..].TrimStart(" \t\r\n"u8);
            rewriter.Insert(sent.Params.Start + 1, paramsInner[0] == (byte)'}' ? members.WrittenSpan[..^1] : members.WrittenSpan);
        }

        rewriter.Replace(sent.Id, id);
        rewriter.Replace(sent.InputResponses, answers.WrittenSpan);
        if (!sent.RequestState.IsEmpty)
        {
            rewriter.Replace(state is null ? JsonMember.Removal(original.Span, sent.RequestState) : sent.RequestState, state);
        }

        var retry = new PooledBufferWriter(original.Length + members.WrittenCount + 32);
        rewriter.WriteTo(original.Span, retry);
        x.Request.Dispose();
        x.Request = retry;
        call.UpstreamId = retryId;

        var (next, error) = await upstream.SendRequestAsync(retryId, retry.WrittenMemory, session, call.Token).ConfigureAwait(false);
        if (next is null)
        {
            await x.Writer.WriteErrorAsync(GatewayError.From(error, server), x.ClientId).ConfigureAwait(false);
            return CallOutcome.Unavailable;
        }

        await x.Reply.DisposeAsync().ConfigureAwait(false);
        x.Reply = next;
        return null;
    }
}
