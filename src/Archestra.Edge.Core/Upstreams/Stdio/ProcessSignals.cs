using System.Runtime.InteropServices;

namespace Archestra.Edge.Upstreams.Stdio;

/// <summary>POSIX signals for child processes (.NET's Process.Kill only sends SIGKILL).</summary>
internal static partial class ProcessSignals
{
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to a process; false if it is already gone.</summary>
    public static bool Send(int pid, int signal) => OperatingSystem.IsWindows() ? false : Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
