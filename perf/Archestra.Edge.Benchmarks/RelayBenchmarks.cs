using System.Text;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Endpoints;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Benchmarks;

/// <summary>
/// The whole POST path of a relayed <c>tools/call</c> in process: the gateway's real handler, session, catalog,
/// relay and response writer, with an in-memory upstream. <c>Ping</c> (answered by the gateway) is the baseline:
/// the difference is what relaying costs, framework request objects excluded.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    private GatewayRuntime _runtime = null!;
    private McpPostHandler _handler = null!;
    private ProfileRuntime _profile = null!;
    private ProfileRuntime _governed = null!;
    private string _sessionId = "";
    private string _governedSessionId = "";
    private byte[] _call = [];
    private byte[] _statelessCall = [];
    private byte[] _ping = [];

    // The audit trail as the gateway has it by default (redacted arguments); its writer is not started, so records
    // queue and are then dropped: what is measured is the request path's share, the record and the argument copy.
    private readonly Observability.Audit.AuditTrail _audit = new(AuditSettings.Default, () => throw new InvalidOperationException(), TimeProvider.System, NullLogger.Instance);

    [GlobalSetup]
    public void Setup()
    {
        // g: the same tool behind 20 rules that all cover it (each tests the argument; none matches) and redaction.
        var rules = string.Concat(Enumerable.Range(1, 20).Select(i => $"\n      - {{ name: rule-{i}, servers: [echo], tools: [\"ec*\"], when: [{{ arg: text, equal_to: forbidden-{i} }}], decision: deny }}"));
        var snapshot = ConfigLoader.Load($$"""
            servers:
              echo: { process: { command: unused } }
            profiles:
              p: { tools: [{ server: echo }] }
              g:
                tools: [{ server: echo }]
                redaction: { secrets: redact, personal_data: redact }
                policies:{{rules}}
            """, "bench.yaml", _ => null).Snapshot!;
        _runtime = new GatewayRuntime(snapshot, NullLoggerFactory.Instance, TimeProvider.System, new EchoTransports());
        var host = new GatewayHost(_runtime);
        var states = new Gateway.Stateless.RequestStates(TimeProvider.System);
        _handler = new McpPostHandler(new CallRelay(host, TimeProvider.System, NullLogger<CallRelay>.Instance, new Observability.GatewayMetrics(), _audit, states), states, NullLogger<McpPostHandler>.Instance);
        _profile = _runtime.Profiles["p"];
        var session = new DownstreamSession(Archestra.Edge.Fleet.SessionIds.Standalone.NewId(), _profile, "2025-11-25", ClientCapabilities.None, "bench", "1", TimeProvider.System);
        _runtime.Sessions.TryAdd(session, 10);
        _sessionId = session.Id;
        _governed = _runtime.Profiles["g"];
        var governed = new DownstreamSession(Archestra.Edge.Fleet.SessionIds.Standalone.NewId(), _governed, "2025-11-25", ClientCapabilities.None, "bench", "1", TimeProvider.System);
        _runtime.Sessions.TryAdd(governed, 10);
        _governedSessionId = governed.Id;
        _call = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo__echo","arguments":{"text":"hello from the benchmark"}}}""");
        _ping = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":7,"method":"ping"}""");
        _statelessCall = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo__echo","arguments":{"text":"hello from the benchmark"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}""");
        ToolsCall().GetAwaiter().GetResult(); // warm the catalogs
        ToolsCallGoverned().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public Task Ping() => Run(_ping);

    [Benchmark]
    public Task ToolsCall() => Run(_call);

    /// <summary>The same call on a profile with 20 rules covering the tool and redaction of its result (governance's cost).</summary>
    [Benchmark]
    public Task ToolsCallGoverned() => Run(_call, governed: true);

    /// <summary>The same call from a 2026-07-28 client: no session; its context is made from the request's <c>_meta</c>.</summary>
    [Benchmark]
    public Task ToolsCallStateless() => Run(_statelessCall, stateless: true);

    private Task Run(byte[] body, bool stateless = false, bool governed = false)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "POST";
        request.Path = "/v1/mcp/p";
        request.Headers.Host = "localhost";
        request.Headers.ContentType = "application/json";
        request.Headers.Accept = "application/json, text/event-stream";
        if (stateless)
        {
            request.Headers["MCP-Protocol-Version"] = "2026-07-28";
            request.Headers["Mcp-Method"] = "tools/call";
            request.Headers["Mcp-Name"] = "echo__echo";
        }
        else
        {
            request.Headers["Mcp-Session-Id"] = governed ? _governedSessionId : _sessionId;
        }

        request.ContentLength = body.Length;
        request.Body = new MemoryStream(body, writable: false);
        context.Response.Body = Stream.Null;
        return _handler.HandleAsync(new McpRequest(context, _runtime, governed ? _governed : _profile));
    }

    /// <summary>Every server is an <see cref="EchoSession"/>.</summary>
    private sealed class EchoTransports : Upstreams.Supervision.ITransportFactory
    {
        public Task<(UpstreamSession? Session, UpstreamError Error)> OpenAsync(ServerModel model, string name, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken)
            => Task.FromResult<(UpstreamSession?, UpstreamError)>((new EchoSession(model.Name), UpstreamError.None));
    }

    /// <summary>An upstream that answers at once: the echo tool's definition, and a fixed result per call.</summary>
    private sealed class EchoSession : UpstreamSession
    {
        private static readonly byte[] s_tools = """{"tools":[{"name":"echo","description":"Echoes","inputSchema":{"type":"object"}}]}"""u8.ToArray();
        private static readonly byte[] s_result = """{"content":[{"type":"text","text":"hello from the benchmark"}]}"""u8.ToArray();

        public EchoSession(string name)
            : base(name)
        {
            Info = UpstreamInfo.Empty with { ProtocolVersion = "2025-11-25", Tools = true };
        }

        public override bool IsAlive => true;

        public override ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
        {
            var envelope = EnvelopeReader.Read(message.Span);
            using var output = new PooledBufferWriter(256);
            JsonRpcWriter.WriteResult(output, envelope.Id.Slice(message.Span), envelope.Method == Protocol.Mcp.McpMethod.ToolsList ? s_tools : s_result);
            IUpstreamReply reply = new CompletedReply(UpstreamMessage.Copy(output.WrittenSpan));
            return ValueTask.FromResult<(IUpstreamReply?, UpstreamError)>((reply, UpstreamError.None));
        }

        public override ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => ValueTask.FromResult(UpstreamError.None);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
