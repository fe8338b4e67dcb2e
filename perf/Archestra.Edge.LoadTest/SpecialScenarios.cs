using System.Diagnostics;
using System.Net;

namespace Archestra.Edge.LoadTest;

/// <summary>Scenarios that measure the gateway rather than a call: memory per open session, and start-up time.</summary>
internal static class SpecialScenarios
{
    /// <summary>Opens <c>--sessions</c> idle sessions and reports the watched processes' RSS before and after.</summary>
    public static async Task<RunReport> SessionsAsync(LoadOptions options, HttpMessageInvoker http)
    {
        var before = options.Watch.ToDictionary(w => w.Name, w => ProcessStats.RssBytes(w.Pid));
        var watch = Stopwatch.StartNew();
        var sessions = new List<McpHttpSession>(options.Sessions);
        var failed = 0;
        using var gate = new SemaphoreSlim(Math.Max(1, options.Clients));
        var lockObject = new Lock();
        await Task.WhenAll(Enumerable.Range(0, options.Sessions).Select(async _ =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                var session = new McpHttpSession(http, options.Url!, options.Token, !options.NoVerify);
                await session.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
                lock (lockObject)
                {
                    sessions.Add(session);
                }
            }
            catch (Exception ex) when (ex is CallFailure or HttpRequestException)
            {
                Interlocked.Increment(ref failed);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        var opened = watch.Elapsed;

        // Let the runtime settle (GC) before reading memory.
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var report = new RunReport
        {
            Label = options.Label,
            Scenario = "sessions",
            Url = options.Url!.ToString(),
            Clients = options.Clients,
            Seconds = opened.TotalSeconds,
            Ok = sessions.Count,
            Failed = failed,
            LatencyMs = new() { ["p50"] = 0, ["p90"] = 0, ["p99"] = 0, ["p99.9"] = 0, ["max"] = 0, ["mean"] = 0 },
        };
        foreach (var (name, pid) in options.Watch)
        {
            var after = ProcessStats.RssBytes(pid);
            report.Processes[name] = new ProcessReport(pid, ProcessStats.CpuSeconds(pid), after);
            report.Extra[$"{name}.rssBeforeBytes"] = before[name];
            report.Extra[$"{name}.rssPerSessionBytes"] = sessions.Count > 0 ? (after - before[name]) / (double)sessions.Count : 0;
        }

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

        return report;
    }

    /// <summary>
    /// Starts the command <c>--repeat</c> times and measures from process start to the first answered
    /// <c>initialize</c> at <c>--url</c>; also the idle RSS a second after start-up.
    /// </summary>
    public static async Task<RunReport> StartupAsync(LoadOptions options, HttpMessageInvoker http)
    {
        var times = new List<double>();
        var rss = new List<long>();
        for (var i = 0; i < options.Repeat; i++)
        {
            var startInfo = new ProcessStartInfo(options.Spawn[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in options.Spawn.Skip(1))
            {
                startInfo.ArgumentList.Add(argument);
            }

            var watch = Stopwatch.StartNew();
            using var process = Process.Start(startInfo)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            while (true)
            {
                try
                {
                    var session = new McpHttpSession(http, options.Url!, options.Token, !options.NoVerify);
                    await session.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
                    break;
                }
                catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError)
                {
                    if (watch.Elapsed > TimeSpan.FromSeconds(30) || process.HasExited)
                    {
                        throw new InvalidOperationException("the process did not answer initialize within 30 s");
                    }

                    await Task.Delay(1).ConfigureAwait(false);
                }
            }

            times.Add(watch.Elapsed.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            rss.Add(ProcessStats.RssBytes(process.Id));
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        times.Sort();
        rss.Sort();
        var report = new RunReport
        {
            Label = options.Label,
            Scenario = "startup",
            Url = options.Url!.ToString(),
            Ok = times.Count,
            LatencyMs = new()
            {
                ["p50"] = times[times.Count / 2],
                ["p90"] = times[^1],
                ["p99"] = times[^1],
                ["p99.9"] = times[^1],
                ["max"] = times[^1],
                ["mean"] = times.Average(),
            },
        };
        report.Extra["startupMinMs"] = times[0];
        report.Extra["startupMedianMs"] = times[times.Count / 2];
        report.Extra["idleRssMedianBytes"] = rss[rss.Count / 2];
        return report;
    }
}
