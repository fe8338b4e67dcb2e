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

    /// <summary>Exit (code 3) when the Nth tool call arrives.</summary>
    public int? CrashAfter { get; init; }

    /// <summary>Write a non-JSON line to stdout before serving (stdio).</summary>
    public bool GarbageAtStart { get; init; }

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
                "--crash-after" => options with { CrashAfter = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--garbage-at-start" => options with { GarbageAtStart = true },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }

        return options;
    }
}
