using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Supervision.Processes;

/// <summary>
/// Starts the gateway's child processes so that none outlives it:
/// <list type="bullet">
/// <item>Each child runs under the gateway's own binary in its <c>__child</c> mode (the shim): it starts a new
/// process group, asks the kernel for SIGTERM when the gateway dies (even by SIGKILL), and then takes the whole
/// group down; stopping a child signals its group, so helpers a server spawned go with it.</item>
/// <item>All children are started from one long-lived thread: the kernel's parent-death signal is tied to the
/// thread that forked, and a thread-pool thread may retire at any time.</item>
/// <item>Each child is recorded in <c>data_dir</c> while it runs; records left by a gateway that died anyway are
/// reaped (the whole group killed) at the next start.</item>
/// </list>
/// Without a shim (in-process hosts in tests, or another OS) children are started directly.
/// </summary>
internal sealed partial class ChildProcesses : IDisposable
{
    private readonly string? _shimPath;
    private readonly string? _records;
    private readonly ILogger _logger;
    private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> _requests = new();
    private readonly Thread _spawner;

    public ChildProcesses(string? shimPath, string? recordDirectory, ILogger logger)
    {
        _shimPath = OperatingSystem.IsLinux() ? shimPath : null;
        _records = recordDirectory;
        _logger = logger;
        _spawner = new Thread(SpawnLoop) { IsBackground = true, Name = "archestra-spawner" };
        _spawner.Start();
    }

    /// <summary>Whether children run under the shim (own process group, die with the gateway).</summary>
    public bool Supervised => _shimPath is not null;

    /// <summary>Starts <paramref name="info"/> (redirections as given) under the shim; throws <see cref="Win32Exception"/> when it cannot start.</summary>
    public Task<Process> StartAsync(ProcessStartInfo info)
    {
        if (_shimPath is not null)
        {
            var wrapped = new ProcessStartInfo(_shimPath)
            {
                RedirectStandardInput = info.RedirectStandardInput,
                RedirectStandardOutput = info.RedirectStandardOutput,
                RedirectStandardError = info.RedirectStandardError,
                UseShellExecute = false,
                CreateNoWindow = true,
                WorkingDirectory = info.WorkingDirectory,
            };
            wrapped.ArgumentList.Add(ShimCommand);
            wrapped.ArgumentList.Add("--parent");
            wrapped.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            wrapped.ArgumentList.Add("--");
            wrapped.ArgumentList.Add(info.FileName);
            foreach (var argument in info.ArgumentList)
            {
                wrapped.ArgumentList.Add(argument);
            }

            wrapped.Environment.Clear();
            foreach (var (name, value) in info.Environment)
            {
                wrapped.Environment[name] = value;
            }

            info = wrapped;
        }

        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _requests.Add((info, started));
        }
        catch (InvalidOperationException)
        {
            started.SetException(new ObjectDisposedException(nameof(ChildProcesses)));
        }

        return started.Task;
    }

    /// <summary>The hidden command of the gateway binary that runs one child (see <c>ChildShim</c>).</summary>
    public const string ShimCommand = "__child";

    /// <summary>Records a running child, so a later gateway can reap it if this one dies without stopping it.</summary>
    public void Remember(int pid, string description)
    {
        if (_records is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(_records);
            File.WriteAllText(Path.Combine(_records, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                $"{ProcessSignals.StartTime(pid)} {description}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.RecordFailed(_logger, ex.Message);
        }
    }

    public void Forget(int pid)
    {
        if (_records is null)
        {
            return;
        }

        try
        {
            File.Delete(Path.Combine(_records, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Kills the process groups a previous gateway recorded and left running. Returns how many it found.</summary>
    public int ReapLeftovers()
    {
        if (_records is null || !Directory.Exists(_records))
        {
            return 0;
        }

        var reaped = 0;
        foreach (var file in Directory.GetFiles(_records))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(file), out var pid)
                    && File.ReadAllText(file).Split(' ', 2) is [var startText, var description]
                    && long.TryParse(startText, out var recorded)
                    && recorded >= 0
                    && ProcessSignals.StartTime(pid) == recorded)
                {
                    // Same pid and same start time: the very process that was recorded, not a reused pid.
                    ProcessSignals.SendToGroup(pid, ProcessSignals.SigKill);
                    ProcessSignals.Send(pid, ProcessSignals.SigKill);
                    Log.Reaped(_logger, pid, description);
                    reaped++;
                }

                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.RecordFailed(_logger, ex.Message);
            }
        }

        return reaped;
    }

    public void Dispose()
    {
        _requests.CompleteAdding();
        _spawner.Join(TimeSpan.FromSeconds(5));
        _requests.Dispose();
    }

    private void SpawnLoop()
    {
        foreach (var (info, started) in _requests.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = info };
                if (!process.Start())
                {
                    process.Dispose();
                    started.SetException(new Win32Exception($"cannot start '{info.FileName}'"));
                    continue;
                }

                started.SetResult(process);
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ProcessReaped, LogLevel.Warning, "Killed process group {Pid} ({Command}), left running by a previous gateway")]
        public static partial void Reaped(ILogger logger, int pid, string command);

        [LoggerMessage(Observability.EventIds.ProcessRecordFailed, LogLevel.Warning, "Cannot record or read child processes in data_dir: {Reason}")]
        public static partial void RecordFailed(ILogger logger, string reason);
    }
}
