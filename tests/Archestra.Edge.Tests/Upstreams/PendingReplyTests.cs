using System.Text;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Streams;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Tests.Upstreams;

/// <summary>The lock-free hand-off from a stdio read loop to the relay keeps order and never loses a message.</summary>
public sealed class PendingReplyTests
{
    [Fact]
    public async Task MessagesArriveInOrder_WhateverTheInterleaving()
    {
        for (var round = 0; round < 200; round++)
        {
            var table = new PendingTable<PendingReply>();
            var reply = new PendingReply(table, round);
            table.Add(reply);
            const int count = 50;
            var producer = Task.Run(async () =>
            {
                for (var i = 0; i < count - 1; i++)
                {
                    reply.Enqueue(Message(i));
                    if (i % 7 == round % 7)
                    {
                        await Task.Yield();
                    }
                }

                reply.Complete(Message(count - 1));
            });

            var received = new List<int>();
            while (await reply.ReadAsync(CancellationToken.None) is { } message)
            {
                using (message)
                {
                    received.Add(int.Parse(Encoding.UTF8.GetString(message.Envelope.Id.Slice(message.Span))));
                }
            }

            await producer;
            Assert.Equal(Enumerable.Range(0, count), received);
            await reply.DisposeAsync();
            Assert.Equal(0, table.Count);
        }
    }

    [Fact]
    public async Task Fail_EndsTheWait_WithTheError()
    {
        var reply = new PendingReply(new PendingTable<PendingReply>(), 1);
        var reading = reply.ReadAsync(CancellationToken.None).AsTask();
        Assert.False(reading.IsCompleted);
        reply.Fail(UpstreamError.Failed("gone"));
        Assert.Null(await reading.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("gone", reply.Error.Message);
    }

    [Fact]
    public async Task Cancellation_EndsTheWait()
    {
        var reply = new PendingReply(new PendingTable<PendingReply>(), 1);
        using var cts = new CancellationTokenSource();
        var reading = reply.ReadAsync(cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static UpstreamMessage Message(int id)
        => UpstreamMessage.Copy(Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}"));
}
