using System.Threading.Tasks.Sources;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Upstreams.Streams;

/// <summary>
/// The messages a server sends for one request over a single message stream (stdio, legacy SSE), handed from the session's read loop (the only producer)
/// to the relay (the only consumer) without locks or per-message allocation: messages are pushed on an
/// intrusive stack, a waiting consumer is woken, and it takes them in arrival order. Continuations never run on
/// the read loop.
/// </summary>
internal sealed class PendingReply : IUpstreamReply, IPendingItem, IValueTaskSource<UpstreamMessage?>
{
    private readonly PendingTable<PendingReply> _owner;
    private ManualResetValueTaskSourceCore<UpstreamMessage?> _core = new() { RunContinuationsAsynchronously = true };
    private UpstreamMessage? _pushed;          // producer side, newest first
    private UpstreamMessage? _ready;           // consumer side, oldest first
    private int _waiting;                      // 1 while the consumer awaits _core
    private int _completed;                    // the producer will add nothing more
    private CancellationTokenRegistration _cancellation;

    public PendingReply(PendingTable<PendingReply> owner, long id)
    {
        _owner = owner;
        Id = id;
    }

    public long Id { get; }

    /// <summary>The client the request was made for (null for the gateway's own requests).</summary>
    public ICallerContext? Caller { get; init; }

    public UpstreamError Error { get; private set; }

    /// <summary>Queues a related message (progress, log, server-to-client request).</summary>
    public void Enqueue(UpstreamMessage message)
    {
        if (Volatile.Read(ref _completed) == 1)
        {
            message.Dispose();
            return;
        }

        UpstreamMessage? head;
        do
        {
            head = Volatile.Read(ref _pushed);
            message.Next = head;
        }
        while (Interlocked.CompareExchange(ref _pushed, message, head) != head);

        Wake();
    }

    /// <summary>Queues the response; nothing follows it.</summary>
    public void Complete(UpstreamMessage response)
    {
        Enqueue(response);
        Finish();
    }

    /// <summary>Ends the exchange without a response.</summary>
    public void Fail(UpstreamError error)
    {
        Error = error;
        Finish();
    }

    public ValueTask<UpstreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        if (TakeReady() is { } ready)
        {
            return ValueTask.FromResult<UpstreamMessage?>(ready);
        }

        if (Volatile.Read(ref _completed) == 1)
        {
            return ValueTask.FromResult(TakeReady());
        }

        _core.Reset();
        Volatile.Write(ref _waiting, 1);

        // Announced; look again so nothing pushed (or finished) in the meantime is missed.
        if (Volatile.Read(ref _pushed) is not null || Volatile.Read(ref _completed) == 1)
        {
            if (Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                return ValueTask.FromResult(TakeReady());
            }

            // The producer claimed the wait first: its wake-up is on the way.
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PendingReply)state!).Cancel(token), this);
        }

        return new ValueTask<UpstreamMessage?>(this, _core.Version);
    }

    UpstreamMessage? IValueTaskSource<UpstreamMessage?>.GetResult(short token)
    {
        _cancellation.Dispose();
        _cancellation = default;
        _core.GetResult(token); // a wake-up (or the cancellation, thrown)
        return TakeReady();
    }

    ValueTaskSourceStatus IValueTaskSource<UpstreamMessage?>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<UpstreamMessage?>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    public ValueTask DisposeAsync()
    {
        _owner.Remove(this);
        Volatile.Write(ref _completed, 1);
        while (TakeReady() is { } leftover)
        {
            leftover.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private void Finish()
    {
        Volatile.Write(ref _completed, 1);
        Wake(); // the consumer drains what is left, then sees the end
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetResult(null);
        }
    }

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _core.SetException(new OperationCanceledException(token));
        }
    }

    /// <summary>The oldest queued message, if any (consumer only).</summary>
    private UpstreamMessage? TakeReady()
    {
        if (_ready is null)
        {
            Collect();
        }

        var message = _ready;
        if (message is not null)
        {
            _ready = message.Next;
            message.Next = null;
        }

        return message;
    }

    /// <summary>Moves everything pushed so far, in arrival order, behind the ready list (consumer only).</summary>
    private void Collect()
    {
        var taken = Interlocked.Exchange(ref _pushed, null);
        UpstreamMessage? reversed = null;
        while (taken is not null)
        {
            var next = taken.Next;
            taken.Next = reversed;
            reversed = taken;
            taken = next;
        }

        if (reversed is null)
        {
            return;
        }

        if (_ready is null)
        {
            _ready = reversed;
            return;
        }

        var tail = _ready;
        while (tail.Next is not null)
        {
            tail = tail.Next;
        }

        tail.Next = reversed;
    }
}
