using System.Buffers;
using System.Buffers.Text;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Observability;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>
/// Relays one client request to one upstream and the upstream's answer back:
/// <code>
///  client ──POST {id:"c7", name:"srv__echo", _meta.progressToken:"p"}──▶ gateway
///  gateway ──{id:41, name:"echo", _meta.progressToken:41}──▶ upstream        (only these tokens are spliced)
///  upstream ──progress {progressToken:41}, sampling {id:3}, …, response {id:41}──▶ gateway
///  gateway ──progress {progressToken:"p"}, sampling {id:9}, …, response {id:"c7"}──▶ client
/// </code>
/// The upstream id doubles as the progress token, so a shared upstream routes progress exactly. A dead
/// upstream session (HTTP 404, exited process) is replaced once, transparently, before anything was sent.
/// </summary>
internal sealed partial class CallRelay
{
    private readonly GatewayHost _host;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ObjectPool<RelayCall> _calls;
    private readonly GatewayMetrics? _metrics;
    private readonly Observability.Audit.AuditTrail? _audit;
    private readonly Stateless.RequestStates _states;
    private readonly Stateless.ParkedCalls _parked;

    public CallRelay(GatewayHost host, TimeProvider timeProvider, ILogger<CallRelay> logger, GatewayMetrics? metrics = null, Observability.Audit.AuditTrail? audit = null, Stateless.RequestStates? states = null)
    {
        _host = host;
        _states = states ?? new Stateless.RequestStates(timeProvider);
        _parked = new Stateless.ParkedCalls();
        _metrics = metrics;
        _audit = audit is { Enabled: true } ? audit : null;
        _timeProvider = timeProvider;
        _logger = logger;
        var policy = new RelayCall.Policy(timeProvider);
        _calls = new DefaultObjectPool<RelayCall>(policy, Environment.ProcessorCount * 64);
        policy.Pool = _calls;
    }

    /// <summary>
    /// Runs a relayed request from start to end in one async method (one state machine per call): registers it
    /// (so a cancel finds it at once), lets <paramref name="resolve"/> find the target under the call's token,
    /// sends it, and relays every message of the reply until the response. Timeouts, cancels and session ends
    /// during any phase end here.
    /// </summary>
    public async Task RunAsync<TState>(HttpContext context, DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope,
        TState state, Func<TState, RelayCall, ValueTask<(RelayTarget Target, GatewayError Error)>> resolve)
    {
        var clientId = body.Memory.Slice(envelope.Id.Start, envelope.Id.Length);
        var writer = new DownstreamWriter(context, session);
        var call = RelayCall.Begin(_calls, session, RequestKey.From(clientId.Span, envelope.IdKind), _host.Current.Snapshot.Limits.CallTimeout);

        // 2026-07-28: closing the response stream is the cancel (in the 2025 revisions a disconnect is not).
        var streamClosed = session.Stateless ? CancelOnClose(context, call) : default;
        PooledBufferWriter? request = null;
        var started = _timeProvider.GetTimestamp();
        using var span = Observability.Tracing.GatewayTracing.StartCall(MethodLabel(envelope.Method), context.Request.Headers.TraceParent, context.Request.Headers.TraceState);
        var outcome = CallOutcome.Rejected;
        long responseBytes = 0;
        RelayTarget target = default;
        RelayExchange? exchange = null;
        string? decision = null;
        try
        {
            (target, var error) = await resolve(state, call).ConfigureAwait(false);
            decision = Decided(session, target.Verdict);
            if (error.Kind != GatewayErrorKind.None)
            {
                await (error.Kind is GatewayErrorKind.ToolRateLimited or GatewayErrorKind.PolicyDenied
                    ? writer.WriteToolErrorAsync(error.Message, clientId)
                    : writer.WriteErrorAsync(error, clientId)).ConfigureAwait(false);
                return;
            }

            if (target.Verdict.Decision == Model.PolicyDecision.RequireApproval)
            {
                var (answer, refusal) = await ApproveAsync(writer, session, call, target, body, envelope, clientId).ConfigureAwait(false);
                if (answer == ApprovalAnswer.Asked)
                {
                    // A 2026-07-28 client got an InputRequiredResult with the question; its retry carries the answer.
                    outcome = CallOutcome.InputRequired;
                    decision = $"asked:{target.Verdict.Rule!.Name}";
                    return;
                }

                decision = Decided(session, target.Verdict, answer);
                if (refusal is not null)
                {
                    await writer.WriteToolErrorAsync(refusal, clientId).ConfigureAwait(false);
                    return;
                }

                if (session.Stateless)
                {
                    target = target with { Approved = target.Approval, DropInputResponses = target.UpstreamRequestState is null };
                }
            }

            var server = target.Server;
            call.Target(server);
            request = new PooledBufferWriter(body.Memory.Length + 32);
            IUpstreamReply? reply = null;
            for (var attempt = 0; reply is null; attempt++)
            {
                var pending = session.UpstreamFor(server, call.Token);
                var (upstream, sessionError) = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
                if (upstream is null)
                {
                    outcome = sessionError.Kind == UpstreamErrorKind.CredentialMissing ? CallOutcome.Rejected : CallOutcome.Unavailable;
                    await WriteUpstreamErrorAsync(writer, session, sessionError, server.Name, envelope.Method, clientId).ConfigureAwait(false);
                    return;
                }

                var upstreamId = upstream.NextRequestId();
                call.Upstream = upstream;
                call.UpstreamId = upstreamId;
                request.Reset();
                WriteUpstreamRequest(request, body.Span, envelope, target, upstreamId);

                var sending = upstream.SendRequestAsync(upstreamId, request.WrittenMemory, session, call.Token);
                (reply, var sendError) = sending.IsCompletedSuccessfully ? sending.Result : await sending.ConfigureAwait(false);
                if (reply is null && (sendError.Kind != UpstreamErrorKind.SessionExpired || attempt > 0))
                {
                    outcome = sendError.Kind == UpstreamErrorKind.CredentialMissing ? CallOutcome.Rejected : CallOutcome.Unavailable;
                    await WriteUpstreamErrorAsync(writer, session, sendError, server.Name, envelope.Method, clientId).ConfigureAwait(false);
                    return;
                }

                // Otherwise the upstream session ended under us: open a new one and send again, once.
            }

            exchange = call.Exchange.Begin(session, call, target, envelope.Method, reply, writer, clientId);
            exchange.ItemRange = envelope.Method == McpMethod.ResourcesRead ? envelope.Uri : envelope.Name;
            exchange.Body = body.Memory;
            exchange.ClientProgressToken = envelope.ProgressToken.IsEmpty ? default : body.Memory.Slice(envelope.ProgressToken.Start, envelope.ProgressToken.Length);
            exchange.Request = request;
            (outcome, responseBytes) = await PumpAsync(exchange).ConfigureAwait(false);
            if (exchange.Redaction is { } redaction)
            {
                decision = decision is null ? redaction : $"{decision};{redaction}";
            }
        }
        catch (OperationCanceledException) when (call.Token.IsCancellationRequested)
        {
            outcome = call.Stop == RelayStop.Timeout ? CallOutcome.Timeout : CallOutcome.Cancelled;
            await StopAsync(writer, call, clientId).ConfigureAwait(false);
        }
        finally
        {
            streamClosed.Dispose();
            if (outcome != CallOutcome.InputRequired || exchange is null)
            {
                // A call that waits for a 2026-07-28 client's answers lives on in the parked table; any other ends here
                // (an approval asked of a 2026-07-28 client waits for nothing: the retry is a new call).
                if (exchange is not null)
                {
                    await exchange.Reply.DisposeAsync().ConfigureAwait(false);
                    request = exchange.Request; // the last one sent (a 2026-07-28 server's input rounds replace it)
                }

                call.Dispose();
            }

            request?.Dispose();
            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics?.RecordCall(session.ProfileName, target.Server?.Name ?? string.Empty, MethodLabel(envelope.Method), target.ItemName ?? string.Empty, outcome, elapsed);
            if (_audit is not null)
            {
                Audit(session, body, envelope, target, outcome, elapsed, responseBytes, decision);
            }

            if (span is not null)
            {
                Tag(span, session, envelope, target, outcome);
            }
        }
    }

    /// <summary>
    /// Relays every message of the reply until the response: progress, logs and server-to-client requests on the way,
    /// then the response under the client's id. For a 2026-07-28 client, a server-to-client request parks the call and
    /// answers with an <c>InputRequiredResult</c>; for a 2025 client of a 2026-07-28 server, an <c>InputRequiredResult</c>
    /// is asked of the client request by request and the call is sent again with the answers.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(CallOutcome Outcome, long ResponseBytes)> PumpAsync(RelayExchange x)
    {
        var call = x.Call;
        var session = x.Session;
        var server = x.Target.Server;
        while (true)
        {
            var reading = x.Reply.ReadAsync(call.Token);
            using var message = reading.IsCompletedSuccessfully ? reading.Result : await reading.ConfigureAwait(false);
            if (message is null)
            {
                await x.Writer.WriteErrorAsync(GatewayError.From(x.Reply.Error, server.Name), x.ClientId).ConfigureAwait(false);
                return (CallOutcome.Unavailable, 0);
            }

            var envelope = message.Envelope;
            switch (envelope.Kind)
            {
                case JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse when IsId(message.Span, envelope.Id, call.UpstreamId):
                    if (!session.Stateless && call.Upstream!.IsModern && envelope.Kind == JsonRpcMessageKind.Response
                        && Stateless.ResultScan.Read(message.Span, envelope.Result) is { InputRequired: true } scan)
                    {
                        // A 2026-07-28 server needs input, and the client speaks 2025: ask it, then send the call again.
                        var retried = await AskAndRetryAsync(x, message, scan).ConfigureAwait(false);
                        if (retried is { } failed)
                        {
                            return (failed, 0);
                        }

                        continue;
                    }

                    await WriteFinalAsync(x, message).ConfigureAwait(false);
                    return (envelope.Kind == JsonRpcMessageKind.ErrorResponse ? CallOutcome.Error : CallOutcome.Ok, message.Length);

                case JsonRpcMessageKind.Response or JsonRpcMessageKind.ErrorResponse:
                    Log.StrayResponse(_logger, server.Name);
                    break;

                case JsonRpcMessageKind.Notification:
                    var relayed = RelayNotificationAsync(message, x.Writer, session, call, server, x.ClientProgressToken);
                    if (!relayed.IsCompletedSuccessfully)
                    {
                        await relayed.ConfigureAwait(false);
                    }

                    break;

                default:
                    if (session.Stateless && envelope.Method != McpMethod.Ping && ClientCan(session, envelope.Method))
                    {
                        // A 2025 server asks during the call; a 2026-07-28 client answers in a retry.
                        return await ParkAsync(x, message).ConfigureAwait(false) ? (CallOutcome.InputRequired, 0) : (CallOutcome.Unavailable, 0);
                    }

                    await RelayServerRequestAsync(message, x.Writer, session, call).ConfigureAwait(false);
                    break;
            }
        }
    }

    private static CancellationTokenRegistration CancelOnClose(HttpContext context, RelayCall call)
    {
        call.StreamGeneration = call.Generation;
        return context.RequestAborted.UnsafeRegister(static (state, _) =>
        {
            var call = (RelayCall)state!;
            call.CancelByClient(call.StreamGeneration);
        }, call);
    }

    /// <summary>The span's name and attributes (OpenTelemetry's MCP conventions where they exist, archestra.* otherwise).</summary>
    private static void Tag(System.Diagnostics.Activity span, DownstreamSession session, JsonRpcEnvelope envelope, RelayTarget target, CallOutcome outcome)
    {
        var method = MethodLabel(envelope.Method);
        if (target.ItemName is { } item)
        {
            span.DisplayName = $"{method} {item}";
            span.SetTag(envelope.Method == McpMethod.ToolsCall ? "gen_ai.tool.name" : "gen_ai.prompt.name", item);
        }

        span.SetTag("mcp.method.name", method);
        span.SetTag("mcp.session.id", session.Id);
        span.SetTag("archestra.profile", session.ProfileName);
        span.SetTag("archestra.server", target.Server?.Name ?? string.Empty);
        span.SetTag("archestra.principal", session.Principal);
        span.SetTag("archestra.outcome", GatewayMetrics.OutcomeName(outcome));
        if (outcome == CallOutcome.Ok)
        {
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Ok);
        }
        else
        {
            span.SetTag("error.type", GatewayMetrics.OutcomeName(outcome));
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, GatewayMetrics.OutcomeName(outcome));
        }
    }

    /// <summary>Hands the call's audit record to the trail's writer (the arguments are copied only if the trail keeps them).</summary>
    private void Audit(DownstreamSession session, RequestBody body, JsonRpcEnvelope envelope, RelayTarget target, CallOutcome outcome, TimeSpan elapsed, long responseBytes, string? decision)
    {
        // Tools and prompts by their upstream name; resources by the URI the client asked for.
        var item = target.ItemName ?? (envelope.Uri.IsEmpty ? string.Empty : System.Text.Encoding.UTF8.GetString(envelope.Uri.Slice(body.Span)).Trim('"'));
        _audit!.Record(new Observability.Audit.AuditRecord(_timeProvider.GetUtcNow(), session.Principal, session.ProfileName, target.Server?.Name ?? string.Empty,
            MethodLabel(envelope.Method), item, GatewayMetrics.OutcomeName(outcome), elapsed.TotalMilliseconds, body.Memory.Length, responseBytes, session.Id)
        {
            Arguments = _audit.KeepsArguments && !envelope.Arguments.IsEmpty ? envelope.Arguments.Slice(body.Span).ToArray() : null,
            Decision = decision,
        });
    }

    private static string MethodLabel(McpMethod method) => method switch
    {
        McpMethod.ToolsCall => "tools/call",
        McpMethod.PromptsGet => "prompts/get",
        McpMethod.ResourcesRead => "resources/read",
        McpMethod.CompletionComplete => "completion/complete",
        _ => "other",
    };

    private async Task StopAsync(DownstreamWriter writer, RelayCall call, ReadOnlyMemory<byte> clientId)
    {
        var what = call.Server is { } server ? $"Upstream '{server.Name}'" : "The request";
        var limit = Units.FormatDuration(call.Timeout);
        var stop = call.Stop;
        if (stop is RelayStop.Timeout or RelayStop.CancelledByClient or RelayStop.SessionEnded)
        {
            // Tell the upstream to stop working on it (never for a mere disconnect: the spec says that is not a cancel).
            SendCancel(call, stop == RelayStop.Timeout ? "timed out at the gateway" : "cancelled by the client");
        }

        try
        {
            switch (stop)
            {
                case RelayStop.Timeout:
                    Log.CallTimedOut(_logger, call.Server?.Name ?? "(unresolved)", limit);
                    var message = call.Server is null && call.WaitingFor is { } waiting
                        ? $"The request could not be routed within {limit}: the profile is still waiting for {waiting}"
                        : $"{what} did not answer within {limit}";
                    await writer.WriteErrorAsync(new GatewayError(GatewayErrorKind.UpstreamTimeout, message), clientId).ConfigureAwait(false);
                    break;
                case RelayStop.CancelledByClient or RelayStop.SessionEnded:
                    await writer.EndWithoutResponseAsync().ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone too.
        }
    }

    private static void SendCancel(RelayCall call, string reason)
    {
        if (call.Upstream is not { } upstream)
        {
            return;
        }

        var writer = new ArrayBufferWriter<byte>(128);
        JsonRpcWriter.WriteCancelled(writer, call.UpstreamId, reason);
        _ = upstream.SendAsync(writer.WrittenMemory, CancellationToken.None).AsTask();
    }

    /// <summary>The client's request with the upstream's id (and name, progress token and fixed arguments) spliced in.</summary>
    private static void WriteUpstreamRequest(PooledBufferWriter output, ReadOnlySpan<byte> body, in JsonRpcEnvelope envelope, RelayTarget target, long upstreamId)
    {
        Span<byte> id = stackalloc byte[20];
        Utf8Formatter.TryFormat(upstreamId, id, out var idLength);
        scoped var rewriter = new MessageRewriter();
        rewriter.Replace(envelope.Id, id[..idLength]);
        rewriter.Replace(envelope.ProgressToken, id[..idLength]);
        var dropInput = target.DropInputResponses && !envelope.InputResponses.IsEmpty;
        if (!target.RequestState.IsEmpty)
        {
            // A retry with the gateway's sealed state: the server gets its own back, or none if it gave none.
            if (target.UpstreamRequestState is { } upstreamState)
            {
                rewriter.Replace(target.RequestState, upstreamState);
            }
            else if (dropInput)
            {
                // The approval's answers go with the state (as one range when they are neighbours: one comma between).
                var (first, second) = JsonMember.Removal(body, target.RequestState, envelope.InputResponses);
                rewriter.Replace(first, default);
                rewriter.Replace(second, default);
                dropInput = false;
            }
            else
            {
                rewriter.Replace(JsonMember.Removal(body, target.RequestState), default);
            }
        }

        if (dropInput)
        {
            rewriter.Replace(JsonMember.Removal(body, envelope.InputResponses), default);
        }

        if (target.Fixed is null)
        {
            if (target.UpstreamName is { } name)
            {
                rewriter.Replace(target.NameRange, name);
            }

            rewriter.WriteTo(body, output);
            return;
        }

        // A tool with arguments fixed by the config (cold: only curated tools come here).
        using var arguments = new PooledBufferWriter();
        FixedArgumentWriter.Write(arguments, target.Fixed, target.Arguments.IsEmpty ? default : target.Arguments.Slice(body));
        using var nameAndArguments = new PooledBufferWriter();
        if (target.Arguments.IsEmpty)
        {
            // No arguments sent: they go in right after the name.
            nameAndArguments.Write(target.UpstreamName ?? target.NameRange.Slice(body));
            nameAndArguments.Write(",\"arguments\":"u8);
            nameAndArguments.Write(arguments.WrittenSpan);
            rewriter.Replace(target.NameRange, nameAndArguments.WrittenSpan);
        }
        else
        {
            if (target.UpstreamName is { } name)
            {
                rewriter.Replace(target.NameRange, name);
            }

            rewriter.Replace(target.Arguments, arguments.WrittenSpan);
        }

        rewriter.WriteTo(body, output);
    }

    private static bool IsId(ReadOnlySpan<byte> message, JsonRange range, long expected)
    {
        if (range.IsEmpty)
        {
            return false;
        }

        var token = range.Slice(message);
        if (token[0] == (byte)'"')
        {
            token = token[1..^1];
        }

        return Utf8Parser.TryParse(token, out long value, out var consumed) && consumed == token.Length && value == expected;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.CallTimedOut, LogLevel.Warning, "A call to upstream '{Server}' timed out after {Timeout}; cancelled upstream")]
        public static partial void CallTimedOut(ILogger logger, string server, string timeout);

        [LoggerMessage(Observability.EventIds.UnattributedMessage, LogLevel.Debug, "Upstream '{Server}' answered a request that is not this call's; dropped")]
        public static partial void StrayResponse(ILogger logger, string server);

        [LoggerMessage(Observability.EventIds.ServerRequestRefused, LogLevel.Information, "Upstream '{Server}' asked for {Method}, which the client did not declare; refused")]
        public static partial void ServerRequestRefused(ILogger logger, string server, string method);
    }

    /// <summary>
    /// Why no upstream answered. A missing credential or connection is the caller's situation, not a protocol failure:
    /// a client that takes URL-mode elicitation is sent to the connect page (-32042), otherwise a call gets a tool error
    /// the model can read, naming where to connect; anything else is an error response.
    /// </summary>
    private static Task WriteUpstreamErrorAsync(DownstreamWriter writer, DownstreamSession session, UpstreamError error, string server, McpMethod method, ReadOnlyMemory<byte> clientId)
    {
        if (error.Kind == UpstreamErrorKind.CredentialMissing)
        {
            if (error.ConnectUrl is { } url && session.Capabilities.ElicitationUrl)
            {
                return writer.WriteUrlElicitationRequiredAsync(error.Message, url, clientId);
            }

            if (method == McpMethod.ToolsCall)
            {
                return writer.WriteToolErrorAsync($"No credential: {error.Message}", clientId);
            }
        }

        return writer.WriteErrorAsync(GatewayError.From(error, server), clientId);
    }
}
