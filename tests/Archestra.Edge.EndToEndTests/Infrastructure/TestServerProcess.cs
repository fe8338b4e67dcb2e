using System.Text.RegularExpressions;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>The C# SDK test server over Streamable HTTP, as a separate process on a free port.</summary>
internal sealed partial class TestServerProcess : IAsyncDisposable
{
    private TestServerProcess(ChildProcess process, Uri url)
    {
        Process = process;
        Url = url;
    }

    public ChildProcess Process { get; }

    /// <summary>The MCP endpoint, e.g. http://127.0.0.1:41234/mcp.</summary>
    public Uri Url { get; }

    public static async Task<TestServerProcess> StartHttpAsync(string name, params string[] extraArguments)
    {
        var process = ChildProcess.Start(Repository.TestServerBinary, ["--http", "--port", "0", "--name", name, .. extraArguments]);
        var line = await process.WaitForLineAsync(l => l.Contains(" listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return new TestServerProcess(process, new Uri(Listening().Match(line).Groups[1].Value));
    }

    /// <summary>The YAML <c>process:</c> block that runs the test server over stdio.</summary>
    public static string StdioYaml(string name, params string[] extraArguments)
    {
        var args = string.Join(", ", new[] { "--stdio", "--name", name }.Concat(extraArguments).Select(a => $"\"{a}\""));
        return $"process: {{ command: \"{Repository.TestServerBinary}\", args: [{args}] }}";
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex Listening();
}
