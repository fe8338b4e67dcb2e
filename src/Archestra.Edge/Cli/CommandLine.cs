using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Cli;

/// <summary>
/// The command line: <c>serve</c>, <c>validate</c>, <c>version</c>, <c>help</c>. Hand-written (no reflection).
/// Exit codes: 0 success, 1 the config or the gateway failed, 2 bad usage.
/// </summary>
internal static class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(HelpText);
            return Usage;
        }

        var command = args[0];
        var rest = args[1..];
        switch (command)
        {
            case "serve":
                return await ServeCommand.RunAsync(rest).ConfigureAwait(false);
            case Upstreams.Supervision.Processes.ChildProcesses.ShimCommand:
                return ChildShim.Run(rest);
            case "status":
                return await StatusCommand.RunAsync(rest).ConfigureAwait(false);
            case "token":
                return TokenCommand.Run(rest);
            case "grants":
                return GrantsCommand.Run(rest);
            case "connect":
                return ConnectCommand.Run(rest);
            case "audit":
                return AuditCommand.Run(rest);
            case "registry":
                return RegistryCommand.Run(rest);
            case "connections":
                return await ConnectionsCommand.RunAsync(rest).ConfigureAwait(false);
            case "pin":
                return await PinCommand.RunAsync(rest).ConfigureAwait(false);
            case "validate":
                return ValidateCommand.Run(rest);
            case "schema":
                return SchemaCommand.Run(rest);
            case "version" or "--version":
                Console.Out.WriteLine($"{BuildInfo.ProductName} {BuildInfo.Version}");
                return Success;
            case "help" or "--help" or "-h":
                Console.Out.WriteLine(HelpText);
                return Success;
            default:
                Console.Error.WriteLine($"error: unknown command '{command}'\n\n{HelpText}");
                return Usage;
        }
    }

    /// <summary>
    /// For a command with options of its own: takes <c>args[i]</c> if it is one of the options every command knows
    /// (<c>--config</c>/<c>-c</c>, <c>--data-dir</c>) or a positional <paramref name="positional"/> value not yet given;
    /// collects the former for <see cref="TryLoadConfig"/>. False (with the error printed) for anything else.
    /// </summary>
    internal static bool TakeCommonOrPositional(string[] args, ref int i, List<string> common, ref string? positional, bool positionalAllowed)
    {
        if (args[i] is "--config" or "-c" or "--data-dir" && i + 1 < args.Length)
        {
            common.Add(args[i]);
            common.Add(args[++i]);
            return true;
        }

        if (positionalAllowed && positional is null && !args[i].StartsWith('-'))
        {
            positional = args[i];
            return true;
        }

        Console.Error.WriteLine($"error: unknown option '{args[i]}'");
        return false;
    }

    /// <summary>
    /// Parses the common options and loads the config file they name, with <c>--data-dir</c> applied. On failure the
    /// problem is printed and <paramref name="exitCode"/> says how to exit.
    /// </summary>
    internal static bool TryLoadConfig(string[] args, out CommandOptions options, out GatewaySnapshot snapshot, out int exitCode)
    {
        snapshot = null!;
        if (!TryParseOptions(args, out options, out var error))
        {
            Console.Error.WriteLine($"error: {error}");
            exitCode = Usage;
            return false;
        }

        var loaded = Configuration.ConfigLoader.LoadFile(options.ConfigPath!);
        if (!loaded.Succeeded)
        {
            ValidateCommand.Report(loaded.Diagnostics);
            exitCode = Failure;
            return false;
        }

        snapshot = options.DataDir is { } dataDir ? loaded.Snapshot!.WithDataDirectory(dataDir) : loaded.Snapshot!;
        exitCode = Success;
        return true;
    }

    /// <summary>Parses <c>--config FILE</c> (or <c>-c</c>, or <c>--config=FILE</c>) and a few flags shared by commands.</summary>
    internal static bool TryParseOptions(string[] args, out CommandOptions options, out string? error)
    {
        options = new CommandOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? value = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                value = arg[(equals + 1)..];
                arg = arg[..equals];
            }

            switch (arg)
            {
                case "--config" or "-c":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    options = options with { ConfigPath = value };
                    break;
                case "--url":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    options = options with { Url = value };
                    break;
                case "--json":
                    options = options with { Json = true };
                    break;
                case "--data-dir":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    options = options with { DataDir = Path.GetFullPath(value!) };
                    break;
                case "--token":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    options = options with { Token = value };
                    break;
                case "--log-level":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    if (!Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value, ignoreCase: true, out var level))
                    {
                        error = $"unknown log level '{value}' (trace, debug, information, warning, error, critical)";
                        return false;
                    }

                    options = options with { LogLevel = level };
                    break;
                case "--listen":
                    if (!TakeValue(args, ref i, ref value, arg, out error))
                    {
                        return false;
                    }

                    options = options with { Listen = [.. options.Listen ?? [], value!] };
                    break;
                default:
                    error = $"unknown option '{args[i]}'";
                    return false;
            }
        }

        options = options with
        {
            ConfigPath = options.ConfigPath ?? Environment.GetEnvironmentVariable("ARCHESTRA_CONFIG") ?? "archestra.yaml",
        };
        return true;
    }

    private static bool TakeValue(string[] args, ref int i, ref string? value, string name, out string? error)
    {
        error = null;
        if (value is not null)
        {
            return true;
        }

        if (i + 1 >= args.Length)
        {
            error = $"{name} needs a value";
            return false;
        }

        value = args[++i];
        return true;
    }

    internal const string HelpText = """
        archestra-edge — an MCP gateway: one endpoint per profile, many MCP servers behind it.

        Usage:
          archestra-edge serve    [--config FILE] [--log-level LEVEL] [--listen URL]... [--data-dir DIR]
          archestra-edge validate [--config FILE]
          archestra-edge status   [--config FILE | --url URL] [--token TOKEN] [--json]
          archestra-edge token    create --scope org|team:ID|user:ID [--name N] [--profile P]... [--expires 30d]
          archestra-edge token    list | revoke ID|NAME
          archestra-edge grants   list [--user USER] | revoke GRANT-ID|--user USER
          archestra-edge connect  PROFILE [--config FILE] [--json]
          archestra-edge registry search [WORDS] | show NAME | add NAME [--as SERVER] [--use npm|pypi|nuget|oci|remote]
          archestra-edge audit    tail [-n N] [--json] | export [--since 7d] [--until DATE] [--format jsonl|csv]
          archestra-edge pin      [--check | --update] [--server NAME]...
          archestra-edge connections connect SERVER [--owner team:NAME|user:NAME] | list | revoke SERVER
          archestra-edge schema   [--write [--config FILE]]
          archestra-edge version
          archestra-edge help

        Commands:
          serve      Load the config and serve /v1/mcp/<profile> until SIGTERM or Ctrl+C.
          validate   Check the config and print every error with file:line:col; exit 1 if any.
          status     Show a running gateway's servers: state, pid/container, uptime, restarts, last exit,
                     last error and stderr tail (from its /admin/status: local clients, or an org token).
          token      Create (the secret is printed once), list or revoke bearer tokens in data_dir.
          grants     List or revoke what users approved for OAuth clients (the built-in authorization server):
                     a revoked grant's refresh and access tokens stop working.
          connect    Print ready-to-paste configuration for Claude Code, Claude Desktop, Cursor, VS Code, Codex,
                     the MCP Inspector and curl (also served at GET /v1/profiles/<profile>/connect).
          registry   Search the MCP server catalogs (built-in, registry.catalogs, --catalog FILE), show an entry,
                     or add it to the config's servers: (the rest of the file stays as it was).
          audit      Show the newest audit records, or export them as JSON lines or CSV (from data_dir).
          pin        Record the tool and prompt definitions of servers with pinning: warn|block in the lock file
                     next to the config (archestra.lock.json); --check exits 1 with a diff when they changed,
                     --update accepts the changes.
          connections  Connect the organisation (or --owner a team or user) to a remote server that wants OAuth
                     (remote.oauth): prints the authorization URL, waits for the browser, keeps the tokens sealed;
                     list them, or revoke them (at the authorization server too). Users connect on /connect.
          schema     Print the JSON Schema of the config file (for editors); --write puts it beside the config
                     as archestra.schema.json, where the config's yaml-language-server line points.
          version    Print the version.

        Options:
          -c, --config FILE   The config file (default: $ARCHESTRA_CONFIG, else ./archestra.yaml).
          --log-level LEVEL   trace, debug, information, warning, error, critical (default: observability.logs.level, else information).
          --listen URL        Listen here instead of server.listen (repeatable; port 0 picks a free port).
          --data-dir DIR      Keep local state here instead of server.data_dir.

        Exit codes: 0 success, 1 invalid config or failure, 2 bad usage.
        """;
}

internal sealed record CommandOptions
{
    public string? ConfigPath { get; init; }

    /// <summary><c>--log-level</c>; null: <c>observability.logs.level</c>, else information.</summary>
    public Microsoft.Extensions.Logging.LogLevel? LogLevel { get; init; }

    public IReadOnlyList<string>? Listen { get; init; }

    /// <summary>Overrides <c>server.data_dir</c> (containers, systemd units).</summary>
    public string? DataDir { get; init; }

    /// <summary><c>status --url</c>: the gateway to ask (default: the first listen URL of the config).</summary>
    public string? Url { get; init; }

    /// <summary><c>status --token</c>: an organisation token for the admin API (default: $ARCHESTRA_TOKEN).</summary>
    public string? Token { get; init; }

    /// <summary><c>status --json</c>: print the status document as is.</summary>
    public bool Json { get; init; }
}
