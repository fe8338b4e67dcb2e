namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>What /proc says about a process: resident memory (now and peak), open descriptors, descendants.</summary>
internal static class ProcessProbe
{
    public static long RssBytes(int pid) => StatusKb(pid, "VmRSS:") * 1024;

    public static long PeakRssBytes(int pid) => StatusKb(pid, "VmHWM:") * 1024;

    /// <summary>User plus system CPU time the process has used (from /proc/PID/stat, in clock ticks of 10 ms).</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    public static int Descriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>Every live process whose chain of parents reaches <paramref name="pid"/>.</summary>
    public static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var candidate))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z")
                {
                    parents[candidate] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        var result = new List<int>();
        foreach (var (candidate, _) in parents)
        {
            for (var current = candidate; parents.TryGetValue(current, out var parent) && parent > 1; current = parent)
            {
                if (parent == pid)
                {
                    result.Add(candidate);
                    break;
                }
            }
        }

        return result;
    }

    private static long StatusKb(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Processes whose command line holds <paramref name="marker"/>: the servers, and with <paramref name="withShims"/> the gateway's <c>__child</c> shims around them.</summary>
    public static List<int> ChildrenNamed(string marker, bool withShims = false)
    {
        var pids = new List<int>();
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(marker, StringComparison.Ordinal) && !commandLine.Contains("dotnet test", StringComparison.Ordinal)
                    && (withShims || !commandLine.Contains(" __child ", StringComparison.Ordinal)))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return pids;
    }

    /// <summary>The process no longer runs (gone, or a zombie waiting for its parent to reap it).</summary>
    public static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
