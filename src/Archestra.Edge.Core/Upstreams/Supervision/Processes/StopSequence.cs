using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Supervision.Processes;

/// <summary>
/// How a stdio server is stopped, as the MCP stdio transport asks: close its stdin and wait; then (a container is
/// removed by its <see cref="ProcessLaunch.StopHook"/>, a process gets SIGTERM — its whole group under the shim) wait
/// again; then SIGKILL for the whole group. Whatever the server left behind in its group goes last.
/// </summary>
internal static partial class StopSequence
{
    /// <summary>How long each step waits for the process to exit before the next, harder one.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    /// <param name="abandoned">A start that was given up: no stdin grace, it is signalled at once.</param>
    public static async Task RunAsync(Process process, int pid, ProcessLaunch? launch, bool abandoned, string serverName, ILogger logger)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        if (abandoned || !await WaitForExitAsync(process, Grace).ConfigureAwait(false))
        {
            if (launch?.StopHook is { } stop)
            {
                await stop().ConfigureAwait(false);
            }
            else if (!ProcessSignals.SendToGroup(pid, ProcessSignals.SigTerm))
            {
                ProcessSignals.Send(pid, ProcessSignals.SigTerm);
            }

            if (!await WaitForExitAsync(process, Grace).ConfigureAwait(false))
            {
                Log.StopForced(logger, serverName, pid);
                ProcessSignals.SendToGroup(pid, ProcessSignals.SigKill);
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                await WaitForExitAsync(process, Grace).ConfigureAwait(false);
            }
        }

        ProcessSignals.SendToGroup(pid, ProcessSignals.SigKill);
    }

    /// <summary>True when the process exited (or is no longer there) within <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ProcessStopForced, LogLevel.Warning, "Upstream '{Server}' process {Pid} did not stop when asked; killed")]
        public static partial void StopForced(ILogger logger, string server, int pid);
    }
}
