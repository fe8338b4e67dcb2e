using System.Buffers;
using System.Text;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using BenchmarkDotNet.Attributes;

namespace Archestra.Edge.Benchmarks;

/// <summary>The wire layer: reading an envelope, splicing id and name, framing SSE.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private byte[] _toolCall = [];
    private byte[] _toolCall64K = [];
    private byte[] _sseStream = [];
    private PooledBufferWriter _output = null!;
    private SseParser _parser = null!;

    [GlobalSetup]
    public void Setup()
    {
        _toolCall = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1234,"method":"tools/call","params":{"name":"github__search_code","arguments":{"q":"repo:acme/api language:csharp","per_page":20},"_meta":{"progressToken":"tok-77"}}}""");
        _toolCall64K = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1234,"method":"tools/call","params":{"name":"echo__echo","arguments":{"text":"PAD"}}}""".Replace("PAD", new string('x', 65536), StringComparison.Ordinal));
        _sseStream = Encoding.UTF8.GetBytes("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":41,\"progress\":50}}\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":41,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}}\n\n");
        _output = new PooledBufferWriter(80_000);
        _parser = new SseParser();
    }

    [Benchmark]
    public JsonRpcMessageKind SniffEnvelope() => EnvelopeReader.Read(_toolCall).Kind;

    [Benchmark]
    public JsonRpcMessageKind SniffEnvelope64K() => EnvelopeReader.Read(_toolCall64K).Kind;

    [Benchmark]
    public int RewriteIdNameAndProgressToken()
    {
        var envelope = EnvelopeReader.Read(_toolCall);
        _output.Reset();
        var rewriter = new MessageRewriter();
        rewriter.Replace(envelope.Id, "98765"u8);
        rewriter.Replace(envelope.Name, "\"search_code\""u8);
        rewriter.Replace(envelope.ProgressToken, "98765"u8);
        rewriter.WriteTo(_toolCall, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteSseEvent()
    {
        _output.Reset();
        SseWriter.WriteMessage(_output, _toolCall);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int ParseSseEvents()
    {
        var buffer = new ReadOnlySequence<byte>(_sseStream);
        var count = 0;
        while (_parser.TryReadEvent(ref buffer, out _))
        {
            count++;
        }

        return count;
    }
}
