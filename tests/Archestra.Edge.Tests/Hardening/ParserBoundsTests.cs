using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Tests.Hardening;

/// <summary>The parsers that see untrusted bytes hold their bounds on partial input, and stay linear.</summary>
public sealed class ParserBoundsTests
{
    [Fact]
    public void SseParser_RefusesALineThatNeverEnds_BeforeBufferingPastTheBound()
    {
        using var parser = new SseParser { MaxEventBytes = 1024 };
        var chunk = new byte[100];
        chunk.AsSpan().Fill((byte)'a');
        var fed = 0;
        var refused = Assert.Throws<InvalidDataException>(() =>
        {
            while (fed < 1_000_000)
            {
                var buffer = new ReadOnlySequence<byte>(chunk);
                parser.TryReadEvent(ref buffer, out _);
                fed += chunk.Length;
            }
        });

        Assert.Contains("SSE line", refused.Message, StringComparison.Ordinal);
        Assert.True(fed <= 1024 + 64 + chunk.Length, $"refused only after {fed} bytes");
    }

    [Fact]
    public void SseParser_AcceptsLinesUpToTheBound()
    {
        using var parser = new SseParser { MaxEventBytes = 1024 };
        var data = new string('x', 1000);
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($"data: {data}\n\n"));
        Assert.True(parser.TryReadEvent(ref buffer, out var e));
        Assert.Equal(1000, e.Data.Length);
    }

    [Fact]
    public async Task LineFraming_A32MiBLineInSmallReads_IsLinear()
    {
        // Before: every read rescanned the partial line from its start (32 MiB in 4 KiB reads = ~137 GB scanned).
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 4096));
        var chunk = new byte[4096];
        chunk.AsSpan().Fill((byte)'x');
        const int total = 32 << 20;
        var clock = Stopwatch.StartNew();
        long scanned = 0;
        long lineLength = -1;
        for (var written = 0; written <= total; written += chunk.Length)
        {
            if (written == total)
            {
                await pipe.Writer.WriteAsync("\n"u8.ToArray());
            }
            else
            {
                await pipe.Writer.WriteAsync(chunk);
            }

            var result = await pipe.Reader.ReadAsync();
            var buffer = result.Buffer;
            if (LineFraming.TryReadLine(ref buffer, ref scanned, out var line))
            {
                lineLength = line.Length;
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        Assert.Equal(total, lineLength);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void LineFraming_ScannedOffset_FindsLinesAcrossReads()
    {
        long scanned = 0;
        var first = new ReadOnlySequence<byte>("abc"u8.ToArray());
        Assert.False(LineFraming.TryReadLine(ref first, ref scanned, out _));
        Assert.Equal(3, scanned);

        var second = new ReadOnlySequence<byte>("abcdef\r\nnext"u8.ToArray());
        Assert.True(LineFraming.TryReadLine(ref second, ref scanned, out var line));
        Assert.Equal("abcdef", Encoding.UTF8.GetString(line.ToArray()));
        Assert.Equal("next", Encoding.UTF8.GetString(second.ToArray()));
        Assert.Equal(0, scanned);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__allowed","name":"a__excluded"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__t","arguments":{},"arguments":{"path":"/etc"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a+file:///x","uri":"file:///etc/passwd"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"params":{"name":"y"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":1,"progressToken":2}}}""")]
    public void DuplicateRoutingMembers_AreRefused(string json)
    {
        var envelope = EnvelopeReader.Read(Encoding.UTF8.GetBytes(json));
        Assert.Equal(JsonRpcMessageKind.Invalid, envelope.Kind);
        Assert.Equal(EnvelopeError.DuplicateKey, envelope.Error);
    }

    [Fact]
    public void DuplicateMembersTheGatewayDoesNotRead_AreLeftToTheUpstream()
    {
        // Inside arguments, and unknown members: the gateway neither routes nor curates by them.
        var envelope = EnvelopeReader.Read("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":1,"a":2},"other":1,"other":2}}"""u8);
        Assert.Equal(JsonRpcMessageKind.Request, envelope.Kind);
    }
}

public sealed class YamlGuardTests
{
    [Theory]
    [InlineData("a: &x {*x : 1}")]
    [InlineData("? *y\n: 1\nb: &y 2")]
    public void AliasAsMappingKey_IsRefused_NotAStackOverflow(string yaml)
    {
        var result = Archestra.Edge.Configuration.ConfigLoader.Load(yaml, "/tmp/x/archestra.yaml", _ => null);
        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("alias", StringComparison.Ordinal));
    }

    [Fact]
    public void BillionLaughs_IsRefused()
    {
        var lines = new List<string> { "l0: &l0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 10; i++)
        {
            lines.Add($"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]");
        }

        var result = Archestra.Edge.Configuration.ConfigLoader.Load(string.Join('\n', lines), "/tmp/x/archestra.yaml", _ => null);
        Assert.False(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("expand", StringComparison.Ordinal));
    }

    [Fact]
    public void PlainAliases_StillLoad()
    {
        var result = Archestra.Edge.Configuration.ConfigLoader.Load("""
            servers:
              a: { builtin: archestra }
            profiles:
              p: { tools: &t [{ server: a }] }
              q: { tools: *t }
            """, "/tmp/x/archestra.yaml", _ => null);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
    }
}
