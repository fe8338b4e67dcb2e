using Archestra.Edge.Gateway.Pinning;
using Archestra.Edge.Model;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>pin [--check | --update] [--server NAME]…</c>: records the tool and prompt definitions of the servers with
/// <c>pinning: warn | block</c> in the lock file next to the config (<c>archestra.lock.json</c>), checks them, or
/// accepts their changes. Without a flag it records servers the lock does not have yet and refuses to overwrite a
/// changed one (showing the diff). Exit codes: 0 done / matches, 1 differences or a server that could not be listed,
/// 2 bad usage.
/// </summary>
internal static class PinCommand
{
    private const string UsageText = """
        usage: archestra-edge pin [--check | --update] [--server NAME]... [--config FILE]
          (no flag)  record the servers the lock file does not have yet; a changed server is shown, not overwritten
          --check    compare with the lock file; exit 1 with a diff if anything changed (for CI in the config's repo)
          --update   record the current definitions, accepting every change shown
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var check = false;
        var update = false;
        var only = new List<string>();
        var rest = new List<string>();
        string? positional = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--check":
                    check = true;
                    break;
                case "--update":
                    update = true;
                    break;
                case "--server" when i + 1 < args.Length:
                    only.Add(args[++i]);
                    break;
                case "--help" or "-h":
                    Console.Out.WriteLine(UsageText);
                    return CommandLine.Success;
                default:
                    if (!CommandLine.TakeCommonOrPositional(args, ref i, rest, ref positional, positionalAllowed: false))
                    {
                        Console.Error.WriteLine(UsageText);
                        return CommandLine.Usage;
                    }

                    break;
            }
        }

        if (check && update)
        {
            Console.Error.WriteLine("error: --check and --update exclude each other");
            return CommandLine.Usage;
        }

        if (!CommandLine.TryLoadConfig([.. rest], out _, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        var pinned = snapshot.Servers.Where(static s => s.Pinning != PinningMode.Off).Select(static s => s.Name).ToList();
        foreach (var name in only)
        {
            if (!snapshot.ServersByName.TryGetValue(name, out var server))
            {
                Console.Error.WriteLine($"error: no server '{name}' in {snapshot.SourcePath}");
                return CommandLine.Usage;
            }

            if (server.Pinning == PinningMode.Off)
            {
                Console.Error.WriteLine($"error: server '{name}' has no pinning (set pinning: warn or block on it first)");
                return CommandLine.Usage;
            }
        }

        var selected = only.Count > 0 ? only.Distinct(StringComparer.Ordinal).ToList() : pinned;
        if (selected.Count == 0)
        {
            Console.Out.WriteLine("no server has pinning: warn or block; nothing to pin");
            return check ? CommandLine.Success : CommandLine.Failure;
        }

        var lockPath = PinLock.PathFor(snapshot.SourcePath);
        var problems = new List<Configuration.ConfigDiagnostic>();
        var locked = LockFile.Read(lockPath, problems);
        if (locked is null)
        {
            if (!update)
            {
                ValidateCommand.Report(problems);
                return CommandLine.Failure;
            }

            locked = new SortedDictionary<string, LockedServer>(StringComparer.Ordinal); // --update rewrites a broken lock
        }

        // Children run under this binary's __child shim (they die with it); nothing is recorded in data_dir.
        var hosting = new Upstreams.SelfHosting(Environment.ProcessPath, null, "pin" + Utilities.SecureRandom.HexString(3));
        var surveys = await PinSurvey.ReadAsync(snapshot, selected, hosting, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).ConfigureAwait(false);

        var failed = false;
        var differs = false;
        var wrote = false;
        foreach (var survey in surveys.OrderBy(static s => s.Server, StringComparer.Ordinal))
        {
            if (survey.Error is { } error)
            {
                Console.Error.WriteLine($"error: server '{survey.Server}' could not be listed: {error}");
                failed = true;
                continue;
            }

            var entry = locked.GetValueOrDefault(survey.Server);
            var mismatches = PinSurvey.Compare(survey, entry);
            if (mismatches.Count == 0)
            {
                Console.Out.WriteLine($"server '{survey.Server}': matches the lock file ({survey.Tools.Items.Length} tools, {survey.Prompts.Items.Length} prompts)");
                continue;
            }

            if (check || (!update && entry is not null))
            {
                PinSurvey.WriteDiff(Console.Out, survey, entry, mismatches);
                differs = true;
                continue;
            }

            if (entry is not null)
            {
                PinSurvey.WriteDiff(Console.Out, survey, entry, mismatches);
            }

            locked[survey.Server] = survey.ToLocked();
            wrote = true;
            Console.Out.WriteLine($"server '{survey.Server}': {(entry is null ? "pinned" : "updated")} ({survey.Tools.Items.Length} tools, {survey.Prompts.Items.Length} prompts)");
        }

        if (update && only.Count == 0)
        {
            // A full update leaves exactly the pinned servers in the lock.
            foreach (var name in locked.Keys.Where(k => !pinned.Contains(k)).ToList())
            {
                locked.Remove(name);
                wrote = true;
                Console.Out.WriteLine($"server '{name}': dropped from the lock file (no longer pinned)");
            }
        }

        if (wrote)
        {
            LockFile.Write(lockPath, locked);
            Console.Out.WriteLine($"wrote {lockPath}");
        }

        if (differs)
        {
            Console.Out.WriteLine(check
                ? "the definitions differ from the lock file; review them, then accept with: archestra-edge pin --update"
                : "changed servers were not overwritten; review the diff, then accept with: archestra-edge pin --update");
        }

        return failed || differs ? CommandLine.Failure : CommandLine.Success;
    }
}
