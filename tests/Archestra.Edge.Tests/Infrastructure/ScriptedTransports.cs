using System.Collections.Concurrent;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.Supervision;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Tests.Infrastructure;

/// <summary>
/// Stands in for the real transports in supervision tests: each attempt to open a session is recorded with the
/// (fake) time it was made, and answered by <see cref="Next"/>: a failure, a session, or a start that never ends.
/// </summary>
internal sealed class ScriptedTransports(TimeProvider timeProvider) : ITransportFactory
{
    private readonly ConcurrentQueue<DateTimeOffset> _attempts = new();

    /// <summary>How the next attempt goes; by default every attempt opens a healthy session.</summary>
    public Func<IUpstreamListener, CancellationToken, Task<(UpstreamSession?, UpstreamError)>> Next { get; set; }
        = (listener, _) => Task.FromResult<(UpstreamSession?, UpstreamError)>((new ScriptedSession("s", listener), UpstreamError.None));

    public IReadOnlyList<DateTimeOffset> Attempts => [.. _attempts];

    /// <summary>The sessions opened so far, oldest first.</summary>
    public List<ScriptedSession> Sessions { get; } = [];

    public async Task<(UpstreamSession? Session, UpstreamError Error)> OpenAsync(ServerModel model, string name, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken)
    {
        _attempts.Enqueue(timeProvider.GetUtcNow());
        var (session, error) = await Next(listener, cancellationToken).ConfigureAwait(false);
        if (session is ScriptedSession scripted)
        {
            lock (Sessions)
            {
                Sessions.Add(scripted);
            }
        }

        return (session, error);
    }

    public static Task<(UpstreamSession?, UpstreamError)> Fail(string message)
        => Task.FromResult<(UpstreamSession?, UpstreamError)>((null, UpstreamError.Failed(message)));

    /// <summary>A start that only ends when the start timeout cancels it.</summary>
    public static async Task<(UpstreamSession?, UpstreamError)> NeverInitialize(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        return (null, UpstreamError.None);
    }
}

/// <summary>An upstream session that answers every request at once, or, when <see cref="Frozen"/>, never.</summary>
internal sealed class ScriptedSession : UpstreamSession
{
    private readonly IUpstreamListener _listener;
    private volatile bool _alive = true;

    public ScriptedSession(string name, IUpstreamListener listener)
        : base(name)
    {
        _listener = listener;
        Info = UpstreamInfo.Empty with { ProtocolVersion = "2025-11-25", ServerName = "scripted" };
    }

    /// <summary>When set, requests are accepted but never answered (a hung server).</summary>
    public bool Frozen { get; set; }

    public bool Disposed { get; private set; }

    public override bool IsAlive => _alive;

    public override async ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
    {
        if (Frozen)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }

        using var output = new PooledBufferWriter(64);
        JsonRpcWriter.WriteResult(output, EnvelopeReader.Read(message.Span).Id.Slice(message.Span), "{}"u8);
        return (new CompletedReply(UpstreamMessage.Copy(output.WrittenSpan)), UpstreamError.None);
    }

    public override ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => ValueTask.FromResult(UpstreamError.None);

    /// <summary>The server exits: the session ends and its replica hears why.</summary>
    public void Exit(string reason)
    {
        _alive = false;
        _listener.OnClosed(this, UpstreamError.Failed(reason));
    }

    public override ValueTask DisposeAsync()
    {
        _alive = false;
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
