using System.Buffers;
using System.Text;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;

namespace Archestra.Edge.Tests.Protocol;

public sealed class SseParserTests
{
    [Fact]
    public void Events_AreParsed_WithIdTypeAndMultilineData()
    {
        var events = ParseAll(Encoding.UTF8.GetBytes("id: 1\nevent: message\ndata: {\"a\":\ndata: 1}\n\n: comment\n\nretry: 250\nid: 2\ndata:\n\n"));

        Assert.Equal(2, events.Count);
        Assert.Equal(("1", "message", "{\"a\":\n1}", -1), events[0]);
        Assert.Equal(("2", "", "", 250), events[1]);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void LineEndings_AllWork(string eol)
    {
        var text = $"event: message{eol}data: x{eol}{eol}data: y{eol}{eol}";
        var events = ParseAll(Encoding.UTF8.GetBytes(text));
        Assert.Equal(["x", "y"], events.Select(e => e.Data));
    }

    [Fact]
    public void EveryByteInItsOwnRead_GivesTheSameEvents()
    {
        var bytes = Encoding.UTF8.GetBytes("id: 9\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\ndata: second\r\n\r\n");
        var whole = ParseAll(bytes);

        using var parser = new SseParser();
        var split = new List<(string, string, string, int)>();
        foreach (var b in bytes)
        {
            var buffer = new ReadOnlySequence<byte>(new[] { b });
            while (parser.TryReadEvent(ref buffer, out var e))
            {
                split.Add(Describe(e));
            }
        }

        Assert.Equal(whole, split);
        Assert.Equal(2, split.Count);
    }

    [Fact]
    public void Writer_SplitsRawLineBreaks_AndParserJoinsThemBack()
    {
        var json = Encoding.UTF8.GetBytes("{\r\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1\n}");
        using var output = new PooledBufferWriter();
        SseWriter.WriteMessage(output, json, "ev-1"u8);

        var events = ParseAll(output.WrittenSpan.ToArray());
        Assert.Single(events);
        Assert.Equal("ev-1", events[0].Id);
        Assert.Equal("{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1\n}", events[0].Data);
    }

    private static List<(string Id, string Type, string Data, int Retry)> ParseAll(byte[] bytes)
    {
        using var parser = new SseParser();
        var buffer = new ReadOnlySequence<byte>(bytes);
        var events = new List<(string, string, string, int)>();
        while (parser.TryReadEvent(ref buffer, out var e))
        {
            events.Add(Describe(e));
        }

        return events;
    }

    private static (string, string, string, int) Describe(SseEvent e)
        => (Encoding.UTF8.GetString(e.Id.Span), Encoding.UTF8.GetString(e.EventType.Span), Encoding.UTF8.GetString(e.Data.Span), e.RetryMilliseconds);
}
