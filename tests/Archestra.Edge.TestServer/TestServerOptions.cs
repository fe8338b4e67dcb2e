using System.Globalization;

namespace Archestra.Edge.TestServer;

/// <summary>Command-line switches. The misbehaviour switches exist so tests can prove the gateway survives them.</summary>
internal sealed record TestServerOptions
{
    public bool Stdio { get; init; } = true;

    public int Port { get; init; }

    public string Name { get; init; } = "test-server";

    /// <summary>Exit with this code before serving anything.</summary>
    public int? ExitAtStart { get; init; }

    /// <summary>Wait this long before serving anything: a server slow to start (a package fetched on first use).</summary>
    public int StartDelayMs { get; init; }

    /// <summary>Exit (code 3) when the Nth tool call arrives.</summary>
    public int? CrashAfter { get; init; }

    /// <summary>Write a non-JSON line to stdout before serving (stdio).</summary>
    public bool GarbageAtStart { get; init; }

    /// <summary>Exit (code 4) at start unless this file exists: a server that is down until a test "repairs" it.</summary>
    public string? FailUnlessFile { get; init; }

    /// <summary>Declare no <c>listChanged</c> and never announce changes: a server the gateway must re-read on a timer.</summary>
    public bool SilentLists { get; init; }

    /// <summary>Also serve the legacy HTTP+SSE transport (2024-11-05) at <c>/mcp/sse</c> (HTTP mode).</summary>
    public bool LegacySse { get; init; }

    /// <summary>
    /// Which revisions it speaks: <c>2025</c> (stateful sessions; a 2026-07-28 request gets -32022; over stdio, pinned to
    /// 2025-11-25), <c>2026</c> (2026-07-28 only, stateless) or <c>both</c> (sessions for <c>initialize</c> clients,
    /// stateless for 2026-07-28; over stdio, whatever the client speaks).
    /// The 2026 eras add the conformance suite's multi-round-trip tools.
    /// </summary>
    public string Era { get; init; } = "2025";

    /// <summary>Descriptions that replace the catalog's at start (<c>--describe NAME=TEXT</c>): a server whose tools changed.</summary>
    public System.Collections.Immutable.ImmutableDictionary<string, string> Descriptions { get; init; } = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;

    public bool Modern => Era != "2025";

    public static TestServerOptions Parse(string[] args)
    {
        var options = new TestServerOptions();
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--stdio" => options with { Stdio = true },
                "--http" => options with { Stdio = false },
                "--port" => options with { Port = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--name" => options with { Name = args[++i] },
                "--exit-at-start" => options with { ExitAtStart = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--start-delay" => options with { StartDelayMs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--crash-after" => options with { CrashAfter = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--garbage-at-start" => options with { GarbageAtStart = true },
                "--fail-unless-file" => options with { FailUnlessFile = args[++i] },
                "--silent-lists" => options with { SilentLists = true },
                "--describe" => options with { Descriptions = options.Descriptions.SetItem(args[++i].Split('=', 2)[0], args[i].Split('=', 2)[1]) },
                "--legacy-sse" => options with { LegacySse = true },
                "--era" => options with { Era = args[++i] is "2025" or "2026" or "both" ? args[i] : throw new ArgumentException($"--era must be 2025, 2026 or both, not {args[i]}") },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }

        return options;
    }
}
