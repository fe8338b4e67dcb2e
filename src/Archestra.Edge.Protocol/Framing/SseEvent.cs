namespace Archestra.Edge.Protocol.Framing;

/// <summary>
/// One dispatched Server-Sent Event. The memory is owned by the <see cref="SseParser"/> and is valid until its
/// next call.
/// </summary>
public readonly struct SseEvent
{
    public SseEvent(ReadOnlyMemory<byte> eventType, ReadOnlyMemory<byte> id, ReadOnlyMemory<byte> data, bool hasId, int retryMilliseconds)
    {
        EventType = eventType;
        Id = id;
        Data = data;
        HasId = hasId;
        RetryMilliseconds = retryMilliseconds;
    }

    /// <summary>The <c>event:</c> field; empty means the default type, <c>message</c>.</summary>
    public ReadOnlyMemory<byte> EventType { get; }

    /// <summary>The <c>id:</c> field of this event, if it had one.</summary>
    public ReadOnlyMemory<byte> Id { get; }

    public bool HasId { get; }

    /// <summary>The joined <c>data:</c> lines (without the final line break).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The <c>retry:</c> field in milliseconds, or -1.</summary>
    public int RetryMilliseconds { get; }

    /// <summary>True for events of the default type or explicitly <c>message</c>.</summary>
    public bool IsMessage => EventType.IsEmpty || EventType.Span.SequenceEqual("message"u8);
}
