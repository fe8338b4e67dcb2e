using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Archestra.Edge.Upstreams.Supervision.Processes;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>archestra-edge __child --parent PID -- COMMAND ARGS…</c>: the gateway runs every child process through this
/// (hidden) mode of its own binary. It becomes the leader of a new process group, asks the kernel for SIGTERM when
/// the gateway dies (even by SIGKILL), and runs the command with its own stdin/stdout/stderr (so the data path
/// does not pass through it). On SIGTERM, or when the gateway is gone, it sends SIGTERM to the whole group and,
/// after a grace period, SIGKILL; when the command exits, helpers it left in the group are killed too. It exits
/// with the command's exit code.
/// </summary>
internal static class ChildShim
{
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(2);

    public static int Run(string[] args)
    {
        var separator = Array.IndexOf(args, "--");
        if (separator < 0 || separator == args.Length - 1 || args.Length < 3 || args[0] != "--parent"
            || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent))
        {
            Console.Error.WriteLine("usage: archestra-edge __child --parent PID -- COMMAND [ARGS...] (used by the gateway itself)");
            return CommandLine.Usage;
        }

        ProcessSignals.NewSession();
        ProcessSignals.SetParentDeathSignal(ProcessSignals.SigTerm);
        if (ProcessSignals.ParentProcessId() != parent)
        {
            return 128 + ProcessSignals.SigTerm; // the gateway died before the death signal was armed
        }

        var group = Environment.ProcessId;
        var terminating = 0;
        void Terminate(PosixSignalContext context)
        {
            context.Cancel = true; // the shim stays until the command is gone, to report its exit
            if (Interlocked.Exchange(ref terminating, 1) == 0)
            {
                ProcessSignals.SendToGroup(group, ProcessSignals.SigTerm);
                _ = Task.Delay(s_grace).ContinueWith(_ => ProcessSignals.SendToGroup(group, ProcessSignals.SigKill), TaskScheduler.Default);
            }
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Terminate);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Terminate);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Terminate);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Terminate);

        var start = new ProcessStartInfo(args[separator + 1]) { UseShellExecute = false };
        for (var i = separator + 2; i < args.Length; i++)
        {
            start.ArgumentList.Add(args[i]);
        }

        Process child;
        try
        {
            child = Process.Start(start)!;
        }
        catch (Win32Exception ex)
        {
            Console.Error.WriteLine($"archestra-edge: cannot start '{start.FileName}': {ex.Message}");
            return 127;
        }

        using (child)
        {
            child.WaitForExit();
            return child.ExitCode;
        }
    }
}
