using System.Globalization;

namespace Archestra.Edge.LoadTest;

internal enum Scenario
{
    Echo,
    Echo64K,
    List,
    Churn,
    Mix,
    Sessions,
    Startup,
}

/// <summary>Command-line options of a run.</summary>
internal sealed record LoadOptions
{
    public Uri? Url { get; init; }

    /// <summary>Where requests go once a session is open (another instance of a fleet: each call is forwarded to the session's owner); default <see cref="Url"/>.</summary>
    public Uri? CallUrl { get; init; }

    public Scenario Scenario { get; init; } = Scenario.Echo;

    /// <summary>Speak 2026-07-28: no session, every request with its <c>_meta</c> and <c>Mcp-*</c> headers.</summary>
    public bool Stateless { get; init; }

    /// <summary>Closed loop: this many clients, each calling back to back.</summary>
    public int Clients { get; init; } = 32;

    /// <summary>Open loop when above zero: calls per second, latency measured from the intended send time.</summary>
    public double Rate { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The echo tool's name as the endpoint exposes it (e.g. <c>echo</c> or <c>echo__echo</c>).</summary>
    public string Tool { get; init; } = "echo";

    public string? Token { get; init; }

    public string Label { get; init; } = "run";

    public string? JsonReport { get; init; }

    public string? MarkdownReport { get; init; }

    /// <summary>Sessions to open (sessions scenario), or to spread open-loop calls over.</summary>
    public int Sessions { get; init; } = 64;

    /// <summary>Expected number of tools (list scenario); 0 = do not check.</summary>
    public int ExpectTools { get; init; }

    /// <summary>Do not check the echoed text (the canned ceiling answers with fixed text).</summary>
    public bool NoVerify { get; init; }

    /// <summary>Processes whose CPU time and RSS are measured over the measured window: name=pid.</summary>
    public IReadOnlyList<(string Name, int Pid)> Watch { get; init; } = [];

    /// <summary>Startup scenario: the command to spawn and its arguments.</summary>
    public IReadOnlyList<string> Spawn { get; init; } = [];

    public int Repeat { get; init; } = 5;

    public bool Quiet { get; init; }

    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        var watch = new List<(string, int)>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": options = options with { Url = new Uri(Next()) }; break;
                case "--call-url": options = options with { CallUrl = new Uri(Next()) }; break;
                case "--stateless": options = options with { Stateless = true }; break;
                case "--scenario": options = options with { Scenario = Enum.Parse<Scenario>(Next(), ignoreCase: true) }; break;
                case "--clients": options = options with { Clients = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--rate": options = options with { Rate = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--duration": options = options with { Duration = ParseSeconds(Next()) }; break;
                case "--warmup": options = options with { Warmup = ParseSeconds(Next()) }; break;
                case "--tool": options = options with { Tool = Next() }; break;
                case "--token": options = options with { Token = Next() }; break;
                case "--label": options = options with { Label = Next() }; break;
                case "--json": options = options with { JsonReport = Next() }; break;
                case "--md": options = options with { MarkdownReport = Next() }; break;
                case "--sessions": options = options with { Sessions = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--expect-tools": options = options with { ExpectTools = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--no-verify": options = options with { NoVerify = true }; break;
                case "--repeat": options = options with { Repeat = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--quiet": options = options with { Quiet = true }; break;
                case "--watch":
                    var pair = Next().Split('=', 2);
                    watch.Add((pair[0], int.Parse(pair[1], CultureInfo.InvariantCulture)));
                    break;
                case "--spawn":
                    // Everything after --spawn is the command line to start.
                    options = options with { Spawn = args[(i + 1)..] };
                    i = args.Length;
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return options with { Watch = watch };
    }

    private static TimeSpan ParseSeconds(string text)
        => TimeSpan.FromSeconds(double.Parse(text.TrimEnd('s'), CultureInfo.InvariantCulture));
}
