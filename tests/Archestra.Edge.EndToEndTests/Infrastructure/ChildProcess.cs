using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>A child process whose output lines are collected and can be waited for.</summary>
internal sealed partial class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _newLine = new(0);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything written to stdout and stderr so far, in order.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Add(e.Data, child._stdoutClosed);
        process.ErrorDataReceived += (_, e) => child.Add(e.Data, child._stderrClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for an output line matching <paramref name="predicate"/>; fails with the output so far.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = 0;
        while (true)
        {
            lock (_lock)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (predicate(_lines[seen]))
                    {
                        return _lines[seen];
                    }
                }
            }

            if (_process.HasExited)
            {
                // Drain what is left of the output before giving up.
                await OutputClosedAsync();
                lock (_lock)
                {
                    for (; seen < _lines.Count; seen++)
                    {
                        if (predicate(_lines[seen]))
                        {
                            return _lines[seen];
                        }
                    }
                }

                throw new InvalidOperationException($"The process exited (code {_process.ExitCode}) before the expected line appeared. Output:\n{Output}");
            }

            try
            {
                await _newLine.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching line within {timeout}. Output:\n{Output}");
            }
        }
    }

    /// <summary>Waits for the process to exit and for its output to be read to the end, so <see cref="Output"/> is whole.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        await OutputClosedAsync();
        return _process.ExitCode;
    }

    /// <summary>
    /// Both output pipes reached their end (every line is in <see cref="Output"/>); bounded, because a descendant that
    /// inherited them may keep them open after the process itself is gone.
    /// </summary>
    private Task OutputClosedAsync()
        => Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);

    /// <summary>Sends a POSIX signal (15 = SIGTERM, 2 = SIGINT, 9 = SIGKILL).</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited)
        {
            _ = SysKill(_process.Id, signal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(15);
            try
            {
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _newLine.Dispose();
    }

    private void Add(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_lock)
        {
            _lines.Add(line);
        }

        _newLine.Release();
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);
}
