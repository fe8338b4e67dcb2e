using System.Text;
using Archestra.Edge.Gateway.Sessions;

namespace Archestra.Edge.Tests.Gateway;

/// <summary>The per-session replay log behind Last-Event-ID resumption.</summary>
public sealed class SessionReplayTests
{
    [Fact]
    public void ReadAfter_ReturnsExactlyTheLaterEvents_OfThatStreamOnly()
    {
        var replay = new SessionReplay(1 << 20);
        var a = replay.OpenStream();
        var b = replay.OpenStream();
        Append(replay, a, "a1");
        Append(replay, b, "b1");
        Append(replay, a, "a2");
        Append(replay, a, "a3");

        var frames = new List<(long, byte[])>();
        replay.ReadAfter(a, 1, frames, out var completed, out var gap, out var changed);

        Assert.Equal(["a2", "a3"], frames.Select(f => Encoding.UTF8.GetString(f.Item2)));
        Assert.Equal([2L, 3L], frames.Select(f => f.Item1));
        Assert.False(completed);
        Assert.False(gap);
        Assert.Null(changed);
    }

    [Fact]
    public async Task AWaitingReader_IsWokenByTheNextEvent_AndByCompletion()
    {
        var replay = new SessionReplay(1 << 20);
        var stream = replay.OpenStream();
        var frames = new List<(long, byte[])>();
        replay.ReadAfter(stream, 0, frames, out _, out _, out var changed);
        Assert.NotNull(changed);
        Assert.False(changed!.IsCompleted);

        Append(replay, stream, "x");
        await changed.WaitAsync(TimeSpan.FromSeconds(5));

        replay.ReadAfter(stream, 1, frames, out var completed, out _, out var again);
        Assert.False(completed);
        replay.Complete(stream);
        await again!.WaitAsync(TimeSpan.FromSeconds(5));
        replay.ReadAfter(stream, 1, frames, out completed, out _, out var none);
        Assert.True(completed);
        Assert.Null(none);
    }

    [Fact]
    public void Budget_DropsTheOldestEventsFirst_AndReportsTheGap()
    {
        var replay = new SessionReplay(25);
        var stream = replay.OpenStream();
        for (var i = 1; i <= 5; i++)
        {
            Append(replay, stream, $"event-{i}__"); // 9 bytes each
        }

        Assert.True(replay.BytesHeld <= 25);
        var frames = new List<(long, byte[])>();
        replay.ReadAfter(stream, 0, frames, out _, out var gap, out _);
        Assert.True(gap);
        Assert.Equal([4L, 5L], frames.Select(f => f.Item1));
    }

    [Fact]
    public void Streams_BeyondTheLimit_ForgetTheOldestFinishedOne()
    {
        var replay = new SessionReplay(1 << 20);
        var first = replay.OpenStream();
        Append(replay, first, "kept while unfinished");
        var second = replay.OpenStream();
        replay.Complete(second);
        for (var i = 0; i < SessionReplay.MaxStreams - 1; i++)
        {
            replay.OpenStream();
        }

        Assert.True(replay.Knows(first));
        Assert.False(replay.Knows(second));
        Assert.True(replay.Knows(SessionReplay.StandaloneStream));
    }

    [Theory]
    [InlineData("3.17", true, 3, 17)]
    [InlineData("0.1", true, 0, 1)]
    [InlineData("x.1", false, 0, 0)]
    [InlineData("-1.2", false, 0, 0)]
    [InlineData("12", false, 0, 0)]
    public void EventIds_Parse(string id, bool valid, int stream, long sequence)
    {
        Assert.Equal(valid, SessionReplay.TryParseEventId(id, out var s, out var q));
        if (valid)
        {
            Assert.Equal(stream, s);
            Assert.Equal(sequence, q);
            Span<byte> formatted = stackalloc byte[32];
            Assert.Equal(id, Encoding.UTF8.GetString(formatted[..SessionReplay.FormatEventId(stream, sequence, formatted)]));
        }
    }

    private static void Append(SessionReplay replay, int stream, string frame)
        => replay.Append(stream, replay.NextSequence(stream), Encoding.UTF8.GetBytes(frame));
}
