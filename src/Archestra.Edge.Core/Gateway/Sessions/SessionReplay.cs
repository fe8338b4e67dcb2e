namespace Archestra.Edge.Gateway.Sessions;

/// <summary>
/// The recent SSE events of one session, kept so a client that lost a stream can resume it with
/// <c>Last-Event-ID</c> and get exactly the events it missed, on the stream it lost (never another stream's).
/// Stream 0 is the session's GET stream; every POST answered with an event stream gets the next number. Event
/// ids are <c>&lt;stream&gt;.&lt;sequence&gt;</c>, unique within the session. Bounded: at most
/// <see cref="MaxStreams"/> streams and a byte budget per session, dropping the oldest events first.
/// </summary>
internal sealed class SessionReplay
{
    public const int MaxStreams = 32;
    public const int StandaloneStream = 0;

    private readonly long _budget;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, StreamLog> _streams = [];
    private readonly Queue<(StreamLog Log, int Size)> _order = new();
    private long _bytes;
    private int _nextStreamId;

    public SessionReplay(long budgetBytes)
    {
        _budget = budgetBytes;
    }

    /// <summary>Bytes held for replay now (for tests and status).</summary>
    public long BytesHeld
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Starts the log of a new POST stream; returns its number.</summary>
    public int OpenStream()
    {
        lock (_lock)
        {
            var id = ++_nextStreamId;
            _streams[id] = new StreamLog(id);
            if (_streams.Count > MaxStreams)
            {
                ForgetOldestStream();
            }

            return id;
        }
    }

    /// <summary>The next sequence number of a stream (the standalone stream's log is created on first use).</summary>
    public long NextSequence(int stream)
    {
        lock (_lock)
        {
            return Log(stream) is { } log ? ++log.LastSequence : 0;
        }
    }

    /// <summary>Keeps an event (its whole SSE frame) for replay.</summary>
    public void Append(int stream, long sequence, byte[] frame)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (Log(stream) is not { } log)
            {
                return;
            }

            log.Events.Add((sequence, frame));
            _order.Enqueue((log, frame.Length));
            _bytes += frame.Length;
            while (_bytes > _budget && _order.TryDequeue(out var oldest))
            {
                // Events leave in arrival order, so the oldest event overall is the first one of its stream.
                _bytes -= oldest.Size;
                oldest.Log.Events.RemoveAt(0);
                oldest.Log.Dropped = true;
            }

            waiter = log.Waiter;
            log.Waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>The stream's last event was written (the response of its request): a resumed stream ends after it.</summary>
    public void Complete(int stream)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (!_streams.TryGetValue(stream, out var log))
            {
                return;
            }

            log.Completed = true;
            waiter = log.Waiter;
            log.Waiter = null;
        }

        waiter?.TrySetResult();
    }

    public bool Knows(int stream)
    {
        lock (_lock)
        {
            return stream == StandaloneStream || _streams.ContainsKey(stream);
        }
    }

    /// <summary>
    /// The frames of <paramref name="stream"/> after <paramref name="afterSequence"/>. When there are none yet and the
    /// stream is still open, <paramref name="changed"/> completes as soon as there are. <paramref name="gap"/> says
    /// events between were dropped for space.
    /// </summary>
    public void ReadAfter(int stream, long afterSequence, List<(long Sequence, byte[] Frame)> frames, out bool completed, out bool gap, out Task? changed)
    {
        lock (_lock)
        {
            changed = null;
            gap = false;
            if (Log(stream) is not { } log)
            {
                completed = true;
                return;
            }

            foreach (var (sequence, frame) in log.Events)
            {
                if (sequence > afterSequence)
                {
                    if (frames.Count == 0 && sequence > afterSequence + 1)
                    {
                        gap = true;
                    }

                    frames.Add((sequence, frame));
                }
            }

            if (frames.Count == 0 && log.Dropped && log.LastSequence > afterSequence)
            {
                gap = true;
            }

            completed = log.Completed;
            if (frames.Count == 0 && !completed)
            {
                log.Waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = log.Waiter.Task;
            }
        }
    }

    /// <summary>Parses an event id of this gateway: <c>&lt;stream&gt;.&lt;sequence&gt;</c>.</summary>
    public static bool TryParseEventId(ReadOnlySpan<char> id, out int stream, out long sequence)
    {
        stream = 0;
        sequence = 0;
        var dot = id.IndexOf('.');
        return dot > 0
            && int.TryParse(id[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out stream)
            && long.TryParse(id[(dot + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }

    public static int FormatEventId(int stream, long sequence, Span<byte> destination)
    {
        stream.TryFormat(destination, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        destination[written++] = (byte)'.';
        sequence.TryFormat(destination[written..], out var more, provider: System.Globalization.CultureInfo.InvariantCulture);
        return written + more;
    }

    private StreamLog? Log(int stream)
    {
        if (_streams.TryGetValue(stream, out var log))
        {
            return log;
        }

        if (stream != StandaloneStream)
        {
            return null;
        }

        log = new StreamLog(StandaloneStream);
        _streams[StandaloneStream] = log;
        return log;
    }

    private void ForgetOldestStream()
    {
        // The oldest finished POST stream goes first; if none has finished, the oldest one.
        StreamLog? victim = null;
        foreach (var (id, log) in _streams)
        {
            if (id == StandaloneStream)
            {
                continue;
            }

            if (victim is null || (log.Completed && !victim.Completed) || (log.Completed == victim.Completed && log.Id < victim.Id))
            {
                victim = log;
            }
        }

        if (victim is null)
        {
            return;
        }

        _streams.Remove(victim.Id);
        foreach (var (_, frame) in victim.Events)
        {
            _bytes -= frame.Length;
        }

        victim.Events.Clear();
        var kept = _order.Count;
        for (var i = 0; i < kept; i++)
        {
            var entry = _order.Dequeue();
            if (!ReferenceEquals(entry.Log, victim))
            {
                _order.Enqueue(entry);
            }
        }

        victim.Completed = true;
        victim.Waiter?.TrySetResult();
        victim.Waiter = null;
    }

    private sealed class StreamLog(int id)
    {
        public int Id { get; } = id;

        public List<(long Sequence, byte[] Frame)> Events { get; } = [];

        public long LastSequence { get; set; }

        public bool Completed { get; set; }

        public bool Dropped { get; set; }

        public TaskCompletionSource? Waiter { get; set; }
    }
}
