using System.Text;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Tests.Protocol;

public sealed class MessageRewriterTests
{
    [Fact]
    public void IdNameAndProgressToken_AreReplaced_RestIsByteForByte()
    {
        const string source = """{"jsonrpc":"2.0","id":"client-7","method":"tools/call","params":{"name":"srv__echo","arguments":{"text":"h\u00e9llo","n":1.50e3},"_meta":{"progressToken":"tok","x-vendor":{"k":[1,2]}}}}""";
        var bytes = Encoding.UTF8.GetBytes(source);
        var envelope = EnvelopeReader.Read(bytes);

        var rewriter = new MessageRewriter();
        // Added out of order on purpose: the rewriter sorts edits by offset.
        rewriter.Replace(envelope.ProgressToken, "1001"u8);
        rewriter.Replace(envelope.Id, "1001"u8);
        rewriter.Replace(envelope.Name, "\"echo\""u8);
        using var output = new PooledBufferWriter();
        rewriter.WriteTo(bytes, output);

        var expected = source.Replace("\"client-7\"", "1001").Replace("\"srv__echo\"", "\"echo\"").Replace("\"tok\"", "1001");
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(output.WrittenCount, rewriter.RewrittenLength(bytes.Length));
    }

    [Fact]
    public void ResponseId_IsRestored()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a":null}},"jsonrpc":"2.0","id":1001}""");
        var envelope = EnvelopeReader.Read(bytes);
        var rewriter = new MessageRewriter();
        rewriter.Replace(envelope.Id, "\"client-7\""u8);
        using var output = new PooledBufferWriter();
        rewriter.WriteTo(bytes, output);

        Assert.Equal("""{"result":{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a":null}},"jsonrpc":"2.0","id":"client-7"}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void NoEdits_CopiesVerbatim()
    {
        var bytes = Encoding.UTF8.GetBytes("""{ "jsonrpc" : "2.0" , "method" : "notifications/initialized" }""");
        var rewriter = new MessageRewriter();
        using var output = new PooledBufferWriter();
        rewriter.WriteTo(bytes, output);
        Assert.Equal(bytes, output.WrittenSpan.ToArray());
    }
}
