using Archestra.Edge.Hosting;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>connect &lt;profile&gt;</c>: prints ready-to-paste configuration for Claude Code, Claude Desktop, Cursor, VS Code,
/// Codex and curl, from the config file alone (no running gateway needed). The base URL is <c>server.public_url</c>,
/// else the first listen URL.
/// </summary>
internal static class ConnectCommand
{
    public static int Run(string[] args)
    {
        string? profile = null;
        var rest = new List<string>();
        foreach (var arg in args)
        {
            if (profile is null && !arg.StartsWith('-') && (rest.Count == 0 || rest[^1] is not ("--config" or "-c")))
            {
                profile = arg;
            }
            else
            {
                rest.Add(arg);
            }
        }

        if (profile is null)
        {
            Console.Error.WriteLine("usage: archestra-edge connect <profile> [--config FILE] [--json]");
            return CommandLine.Usage;
        }

        if (!CommandLine.TryLoadConfig([.. rest], out var options, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        if (!snapshot.Profiles.ContainsKey(profile))
        {
            Console.Error.WriteLine($"error: no profile '{profile}' in {options.ConfigPath} (profiles: {string.Join(", ", snapshot.Profiles.Keys.Order(StringComparer.Ordinal))})");
            return CommandLine.Failure;
        }

        var baseUrl = snapshot.Listener.PublicBase ?? snapshot.Listener.LocalBase;
        if (options.Json)
        {
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(ConnectInstructions.Document(baseUrl, profile, snapshot.Auth), Contracts.EdgeJsonContext.Relaxed.ConnectDocument));
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            Console.Out.Write(ConnectInstructions.RenderText(baseUrl, profile, snapshot.Auth));
        }

        return CommandLine.Success;
    }
}
