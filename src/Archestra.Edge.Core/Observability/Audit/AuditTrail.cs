using System.Threading.Channels;
using Archestra.Edge.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Observability.Audit;

/// <summary>
/// The audit trail's writer. Requests hand their record to a bounded channel and go on (a full channel drops the
/// record and counts it: auditing never slows or blocks a call); one background loop writes what has arrived in
/// batches of one transaction each, prunes past the retention every hour, and flushes everything when disposed
/// (after the server has stopped, so in-flight calls are in it).
/// </summary>
internal sealed partial class AuditTrail : IHostedService, IAsyncDisposable
{
    private const int Capacity = 10_000;
    private const int BatchSize = 1024;
    private static readonly TimeSpan s_gather = TimeSpan.FromMilliseconds(50);

    private readonly AuditSettings _settings;
    private readonly Func<IAuditRepository> _repository;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<AuditRecord> _channel;
    private Task _loop = Task.CompletedTask;
    private long _written;
    private long _dropped;

    public AuditTrail(AuditSettings settings, Func<IAuditRepository> repository, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _repository = repository;
        _time = time;
        _logger = logger;
        _channel = Channel.CreateBounded<AuditRecord>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public bool Enabled => _settings.Enabled;

    /// <summary>Whether arguments are kept at all (so callers copy them only then).</summary>
    public bool KeepsArguments => _settings.Enabled && _settings.Arguments != AuditArguments.None;

    public long Written => Volatile.Read(ref _written);

    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Hands a record to the writer; never waits.</summary>
    /// <summary>The newest records since <paramref name="since"/>, at most <paramref name="last"/>, oldest first (for the console).</summary>
    public List<AuditRecord> ReadRecent(DateTimeOffset since, int last) => _settings.Enabled ? _repository().Read(since, null, last) : [];

    public void Record(AuditRecord record)
    {
        if (_settings.Enabled && !_channel.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _dropped); // written after completion (shutdown)
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.Enabled)
        {
            _loop = Task.Run(RunAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes what is still queued, then ends the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync()
    {
        // The database is opened with the first record, not at start: start-up and an idle gateway pay nothing.
        if (!await _channel.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            return;
        }

        IAuditRepository store;
        IAuditWriter writer;
        try
        {
            store = _repository();
            writer = store.OpenWriter(_settings.Arguments);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            Log.Unavailable(_logger, ex.Message);
            return;
        }

        var nextPrune = _time.GetUtcNow();
        var batch = new List<AuditRecord>(BatchSize);
        var reader = _channel.Reader;
        while (true)
        {
            if (_time.GetUtcNow() >= nextPrune)
            {
                Prune(store);
                nextPrune = _time.GetUtcNow().AddHours(1);
            }

            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                writer.Dispose();
                return;
            }

            // Under load, let a batch gather for a moment: one commit then carries hundreds of records.
            if (reader.Count < BatchSize && !reader.Completion.IsCompleted)
            {
                await Task.Delay(s_gather).ConfigureAwait(false);
            }

            while (batch.Count < BatchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            try
            {
                writer.Write(batch);
                Interlocked.Add(ref _written, batch.Count);
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
            {
                Interlocked.Add(ref _dropped, batch.Count);
                Log.WriteFailed(_logger, batch.Count, ex.Message);
            }

            batch.Clear();
        }
    }

    private void Prune(IAuditRepository store)
    {
        try
        {
            var removed = store.Prune(_time.GetUtcNow() - _settings.Retention);
            if (removed > 0)
            {
                Log.Pruned(_logger, removed);
            }
        }
        catch (System.Data.Common.DbException ex)
        {
            Log.WriteFailed(_logger, 0, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AuditUnavailable, LogLevel.Error, "The audit trail cannot be written: {Reason}")]
        public static partial void Unavailable(ILogger logger, string reason);

        [LoggerMessage(EventIds.AuditWriteFailed, LogLevel.Error, "Writing {Count} audit records failed: {Reason}")]
        public static partial void WriteFailed(ILogger logger, int count, string reason);

        [LoggerMessage(EventIds.AuditPruned, LogLevel.Information, "Removed {Count} audit records past the retention")]
        public static partial void Pruned(ILogger logger, int count);
    }
}
