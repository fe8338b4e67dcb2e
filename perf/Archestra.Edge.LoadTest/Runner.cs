using System.Diagnostics;
using System.Globalization;

namespace Archestra.Edge.LoadTest;

/// <summary>Runs a per-call scenario closed loop (N clients back to back) or open loop (a fixed rate).</summary>
internal sealed class Runner
{
    private readonly LoadOptions _options;
    private readonly Workload _workload;
    private readonly HttpMessageInvoker _http;
    private volatile Stats _stats = new();
    private volatile bool _stop;
    private long _inFlight;

    public Runner(LoadOptions options, HttpMessageInvoker http)
    {
        _options = options;
        _http = http;
        _workload = new Workload(options);
    }

    public async Task<RunReport> RunAsync()
    {
        var sessionCount = _options.Rate > 0 ? _options.Sessions : _options.Clients;
        var sessions = await OpenSessionsAsync(sessionCount).ConfigureAwait(false);

        var workers = _options.Rate > 0
            ? [OpenLoopAsync(sessions)]
            : sessions.Select((s, i) => ClosedLoopAsync(s, new Random(i))).ToArray();

        // Warm up, then swap in fresh stats and measure.
        await Task.Delay(_options.Warmup).ConfigureAwait(false);
        var measured = new Stats();
        var cpuBefore = _options.Watch.ToDictionary(w => w.Name, w => ProcessStats.CpuSeconds(w.Pid));
        var watch = Stopwatch.StartNew();
        _stats = measured;
        using var progress = StartProgress(watch);
        await Task.Delay(_options.Duration).ConfigureAwait(false);
        _stats = new Stats(); // whatever completes after the window is not counted
        var elapsed = watch.Elapsed;
        var cpuAfter = _options.Watch.ToDictionary(w => w.Name, w => ProcessStats.CpuSeconds(w.Pid));
        var rss = _options.Watch.ToDictionary(w => w.Name, w => ProcessStats.RssBytes(w.Pid));
        _stop = true;
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        var report = RunReport.From(_options, measured, elapsed);
        foreach (var (name, pid) in _options.Watch)
        {
            report.Processes[name] = new ProcessReport(pid, cpuAfter[name] - cpuBefore[name], rss[name]);
        }

        await CloseSessionsAsync(sessions).ConfigureAwait(false);
        return report;
    }

    private async Task<McpHttpSession[]> OpenSessionsAsync(int count)
    {
        var sessions = new McpHttpSession[count];
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                sessions[i] = new McpHttpSession(_http, _options.Url!, _options.Token, !_options.NoVerify, _options.Stateless) { CallEndpoint = _options.CallUrl };
                await sessions[i].InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        return sessions;
    }

    private static async Task CloseSessionsAsync(McpHttpSession[] sessions)
    {
        foreach (var session in sessions)
        {
            try
            {
                await session.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is CallFailure or HttpRequestException)
            {
            }
        }
    }

    private async Task ClosedLoopAsync(McpHttpSession session, Random random)
    {
        await Task.Yield();
        while (!_stop)
        {
            var start = Stopwatch.GetTimestamp();
            await OneAsync(session, random, start).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends at a fixed rate whatever the answers do: each call's latency is counted from the moment it was
    /// due, so a stall shows up in the percentiles instead of silently lowering the rate (no coordinated
    /// omission). A dedicated thread keeps the schedule to well under a millisecond (sleep, then yield, then spin).
    /// </summary>
    private Task OpenLoopAsync(McpHttpSession[] sessions)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var interval = Stopwatch.Frequency / _options.Rate;
            var start = Stopwatch.GetTimestamp();
            long sent = 0;
            var random = new Random(1);
            var pending = new List<Task>();
            while (!_stop)
            {
                var due = start + (long)(sent * interval);
                var now = Stopwatch.GetTimestamp();
                if (due <= now)
                {
                    pending.Add(OneAsync(sessions[sent % sessions.Length], random, due));
                    sent++;
                    if (pending.Count > 4096)
                    {
                        pending.RemoveAll(t => t.IsCompleted);
                    }

                    continue;
                }

                var waitMs = (due - now) * 1000.0 / Stopwatch.Frequency;
                if (waitMs > 1.5)
                {
                    Thread.Sleep(1);
                }
                else if (waitMs > 0.05)
                {
                    Thread.Yield();
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            Task.WhenAll(pending).ContinueWith(_ => done.TrySetResult(), TaskScheduler.Default);
        })
        {
            IsBackground = true,
            Name = "open-loop dispatcher",
            Priority = ThreadPriority.AboveNormal,
        };
        thread.Start();
        return done.Task;
    }

    private async Task OneAsync(McpHttpSession session, Random random, long dueTimestamp)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await _workload.RunOnceAsync(session, _options.Scenario, random, _http, CancellationToken.None).ConfigureAwait(false);
            _stats.Record((Stopwatch.GetTimestamp() - dueTimestamp) * 1_000_000 / Stopwatch.Frequency);
        }
        catch (CallFailure failure)
        {
            _stats.Fail(failure.Kind);
        }
        catch (HttpRequestException ex)
        {
            _stats.Fail(ex.HttpRequestError.ToString());
        }
        catch (TaskCanceledException)
        {
            _stats.Fail("timeout");
        }
        catch (IOException)
        {
            _stats.Fail("io");
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private Timer StartProgress(Stopwatch watch)
    {
        if (_options.Quiet)
        {
            return new Timer(_ => { });
        }

        return new Timer(_ =>
        {
            var stats = _stats;
            var seconds = watch.Elapsed.TotalSeconds;
            var histogram = stats.Merge();
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{_options.Label}] {seconds,5:0.0}s  ok {stats.Ok,8}  rate {stats.Ok / Math.Max(seconds, 0.001),8:0}/s  p50 {histogram.GetValueAtPercentile(50) / 1000.0,6:0.00}ms  p99 {histogram.GetValueAtPercentile(99) / 1000.0,6:0.00}ms  errors {stats.Failed}  in flight {Interlocked.Read(ref _inFlight)}   "));
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }
}
