using System.Collections.Concurrent;

namespace Archestra.Edge.TestServer;

/// <summary>What the test server remembers between calls.</summary>
internal sealed class TestServerState
{
    private int _calls;

    public TestServerState(TestServerOptions options)
    {
        Options = options;
    }

    public TestServerOptions Options { get; }

    /// <summary>Tools added at run time by <c>add_tool</c>.</summary>
    public ConcurrentDictionary<string, string> DynamicTools { get; } = new();

    /// <summary>Descriptions changed after start (the <c>redescribe</c> tool) or at start (<c>--describe</c>).</summary>
    public ConcurrentDictionary<string, string> Descriptions { get; } = new();

    public ConcurrentDictionary<string, byte> Subscriptions { get; } = new();

    public IReadOnlyDictionary<string, string>? LastHeaders { get; set; }

    /// <summary>Counts a tool call; exits the process when <c>--crash-after</c> is reached.</summary>
    public void CountCall()
    {
        var calls = Interlocked.Increment(ref _calls);
        if (Options.CrashAfter is { } limit && calls >= limit)
        {
            Console.Error.WriteLine($"{Options.Name}: crashing on call {calls}, as asked");
            Environment.Exit(3);
        }
    }
}
