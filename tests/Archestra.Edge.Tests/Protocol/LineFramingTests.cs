using System.Buffers;
using System.Text;
using Archestra.Edge.Protocol.Framing;

namespace Archestra.Edge.Tests.Protocol;

public sealed class LineFramingTests
{
    [Fact]
    public void Lines_SplitAcrossSegments_AreJoined()
    {
        var sequence = SegmentedSequence.Create(Encoding.UTF8.GetBytes("{\"a\":"), Encoding.UTF8.GetBytes("1}\r\n{\"b\""), Encoding.UTF8.GetBytes(":2}\npartial"));

        Assert.True(LineFraming.TryReadLine(ref sequence, out var first));
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(first.ToArray()));
        Assert.True(LineFraming.TryReadLine(ref sequence, out var second));
        Assert.Equal("{\"b\":2}", Encoding.UTF8.GetString(second.ToArray()));
        Assert.False(LineFraming.TryReadLine(ref sequence, out _));
        Assert.Equal("partial", Encoding.UTF8.GetString(sequence.ToArray()));
    }
}
