using Microsoft.Extensions.Logging;
using Npgsql;

namespace Archestra.Edge.Storage.Postgres;

/// <summary>
/// Listens on <see cref="PostgresDatabase.ChangeChannel"/> over one dedicated connection and calls back at once when
/// any instance commits a change to tokens, revoked grants or signing keys: a revocation reaches every instance in
/// the time of a notification, not of a poll. When the connection drops, it reconnects (after a second, then backing
/// off to 30 s) and calls back once, since notifications sent meanwhile were lost; the poll of
/// <c>state_version</c> every second stays as the safety net. It also calls back once listening starts, for what
/// changed between the caller's first read and the <c>LISTEN</c>.
/// </summary>
internal sealed partial class PostgresChangeListener : IDisposable
{
    private readonly PostgresDatabase _database;
    private readonly Action _changed;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public PostgresChangeListener(PostgresDatabase database, Action changed, ILogger logger)
    {
        _database = database;
        _changed = changed;
        _logger = logger;
        _loop = Task.Run(ListenAsync);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        // The loop ends at its next await; a connection attempt in progress gives up within its timeout.
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task ListenAsync()
    {
        var token = _stopping.Token;
        var backoff = TimeSpan.FromSeconds(1);
        var first = true;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var connection = _database.Connect();
                await using var disposeConnection = connection.ConfigureAwait(false);
                connection.Notification += (_, _) => Notify();
                var listen = PostgresDatabase.Command(connection, $"LISTEN {PostgresDatabase.ChangeChannel}");
                await using (listen.ConfigureAwait(false))
                {
                    await listen.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                }

                if (!first)
                {
                    Log.Reconnected(_logger);
                }

                // Whatever changed before this LISTEN took effect (at start, or while reconnecting) was not announced here.
                Notify();

                first = false;
                backoff = TimeSpan.FromSeconds(1);
                while (true)
                {
                    await connection.WaitAsync(token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                first = false;
                Log.Lost(_logger, ex.Message, backoff.TotalSeconds);
                try
                {
                    await Task.Delay(backoff, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            }
        }
    }

    private void Notify()
    {
        try
        {
            _changed();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
        {
            Log.Lost(_logger, ex.Message, 0);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.StateListenerLost, LogLevel.Warning, "Lost the PostgreSQL change notifications ({Reason}); reconnecting in {Seconds} s, polling meanwhile")]
        public static partial void Lost(ILogger logger, string reason, double seconds);

        [LoggerMessage(Observability.EventIds.StateListenerReconnected, LogLevel.Information, "Listening to PostgreSQL change notifications again")]
        public static partial void Reconnected(ILogger logger);
    }
}
