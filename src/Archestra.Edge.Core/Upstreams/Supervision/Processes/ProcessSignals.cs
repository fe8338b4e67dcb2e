using System.Runtime.InteropServices;

namespace Archestra.Edge.Upstreams.Supervision.Processes;

/// <summary>POSIX process control the BCL does not offer: signals to a process or a whole group, sessions, parent-death signals.</summary>
internal static partial class ProcessSignals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to a process; false if it is already gone.</summary>
    public static bool Send(int pid, int signal) => !OperatingSystem.IsWindows() && Kill(pid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to every process of the group led by <paramref name="leader"/>; false if the group is empty.</summary>
    public static bool SendToGroup(int leader, int signal) => !OperatingSystem.IsWindows() && leader > 0 && Kill(-leader, signal) == 0;

    /// <summary>Makes the calling process the leader of a new session and process group.</summary>
    public static int NewSession() => SetSid();

    /// <summary>Asks the kernel to send <paramref name="signal"/> to the calling process when the thread that started it dies.</summary>
    public static bool SetParentDeathSignal(int signal) => Prctl(1 /* PR_SET_PDEATHSIG */, (nuint)signal, 0, 0, 0) == 0;

    public static int ParentProcessId() => GetPpid();

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or -1 when it is gone.</summary>
    public static long StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    private static partial int SetSid();

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetPpid();

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
